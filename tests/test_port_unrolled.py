"""Unrolled-GAN and U-GAT-IT habits (session 24, h24k ports): gradients kept with a graph by
``backward(create_graph=True)`` and then zeroed in place, ``copy.deepcopy`` of a discriminator as
a backup (torch's Parameter copies carry no ``.grad``), pickling (torch pickles no gradient), and
G's loss differentiated through unrolled D steps (``functional_call`` + ``autograd.grad``)."""
import copy
import pickle

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.func import functional_call


def _linear_with_graph_grads():
    m = nn.Linear(3, 1).double()
    x = tg.ones(4, 3, dtype=tg.float64)
    (m(x) ** 2).sum().backward(create_graph=True)
    assert m.weight.grad.grad_fn is not None and m.weight.grad.requires_grad
    return m, x


@pytest.mark.parametrize("via", ["module", "optimizer"])
def test_zero_grad_keep_detaches_create_graph_grads(via):
    m, x = _linear_with_graph_grads()
    g = m.weight.grad
    if via == "module":
        m.zero_grad(set_to_none=False)
    else:
        tg.optim.SGD(m.parameters(), lr=0.1).zero_grad(set_to_none=False)
    assert m.weight.grad is g                       # the same tensor, zeroed in place
    assert g.grad_fn is None and not g.requires_grad and g.is_leaf
    np.testing.assert_array_equal(g.numpy(), np.zeros((1, 3)))
    m(x).sum().backward()                            # plain accumulation afterwards: no graph
    assert m.weight.grad.grad_fn is None and not m.weight.grad.requires_grad
    np.testing.assert_allclose(m.weight.grad.numpy(), np.full((1, 3), 4.0))
    np.testing.assert_allclose(m.bias.grad.numpy(), [4.0])


def test_zero_grad_keep_on_grad_that_requires_grad_leaf():
    p = nn.Parameter(tg.ones(2, dtype=tg.float64))
    p.grad = tg.ones(2, dtype=tg.float64).requires_grad_()
    p.zero_grad(set_to_none=False)
    assert not p.grad.requires_grad
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])


def test_deepcopy_of_module_leaves_grads_behind_tensor_keeps_its_grad():
    m, _ = _linear_with_graph_grads()
    backup = copy.deepcopy(m)
    for name, p in backup.named_parameters():
        assert p.grad is None, name
        assert isinstance(p, nn.Parameter) and p.requires_grad
        np.testing.assert_array_equal(p.numpy(), dict(m.named_parameters())[name].numpy())
    assert m.weight.grad is not None                # the original keeps its own
    t = tg.ones(3, requires_grad=True)
    (t * 2).sum().backward()
    u = copy.deepcopy(t)                             # a plain tensor's deepcopy copies .grad (torch's)
    np.testing.assert_array_equal(u.grad.numpy(), [2.0, 2.0, 2.0])
    assert u.grad is not t.grad


def test_deepcopy_shared_parameter_stays_shared():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    seq(tg.ones(1, 2)).sum().backward()
    c = copy.deepcopy(seq)
    assert c[0].weight is c[2].weight and c[0].weight.grad is None


def test_pickle_and_copy_drop_grad():
    p = nn.Parameter(tg.ones(3))
    t = tg.ones(3, requires_grad=True)
    ((p * 2).sum() + (t * 3).sum()).backward()
    for x in (p, t):
        y = pickle.loads(pickle.dumps(x))
        assert y.grad is None and y.requires_grad and type(y) is type(x)
        assert copy.copy(x).grad is None
        np.testing.assert_array_equal(y.numpy(), [1.0, 1.0, 1.0])
    assert p.grad is not None and t.grad is not None


def test_unrolled_backup_restore_roundtrip():
    """andrewliao11's g_loop: deepcopy D, run k create_graph D steps, step G, restore D with
    ``.data = backup.data.clone()``: D is back where it was, and G's step used the unrolled D."""
    tg.manual_seed(0)
    D = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid()).double()
    G = nn.Linear(4, 2).double()
    before = {k: v.numpy().copy() for k, v in D.state_dict().items()}
    d_opt = tg.optim.Adam(D.parameters(), lr=0.05)
    z = tg.randn(16, 4, dtype=tg.float64)
    real = tg.randn(16, 2, dtype=tg.float64)
    backup = copy.deepcopy(D)
    for _ in range(3):
        d_opt.zero_grad()
        with tg.no_grad():
            fake = G(z)
        dr, df = D(real), D(fake)
        (F.binary_cross_entropy(dr, tg.ones_like(dr)) + F.binary_cross_entropy(df, tg.zeros_like(df))
         ).backward(create_graph=True)
        d_opt.step()
    moved = max(float(np.abs(v.numpy() - before[k]).max()) for k, v in D.state_dict().items())
    assert moved > 1e-3
    out = D(G(z))
    F.binary_cross_entropy(out, tg.ones_like(out)).backward()
    assert G.weight.grad is not None
    for m_from, m_to in zip(backup.modules(), D.modules()):
        if isinstance(m_to, nn.Linear):
            m_to.weight.data = m_from.weight.data.clone()
            m_to.bias.data = m_from.bias.data.clone()
    for k, v in D.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    d_opt.zero_grad(set_to_none=False)               # the graph-carrying grads become plain zeros
    assert all(p.grad.grad_fn is None and not p.grad.requires_grad for p in D.parameters())


def test_grad_through_unrolled_sgd_steps_matches_finite_differences():
    """G's loss after k differentiable SGD steps of D (params - lr * autograd.grad(...,
    create_graph=True)), via functional_call: d loss / d G.weight against central differences."""
    rng = np.random.RandomState(1)
    D = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    G = nn.Linear(3, 2).double()
    with tg.no_grad():
        for p in list(D.parameters()) + list(G.parameters()):
            p.copy_(tg.from_numpy(rng.randn(*p.shape) * 0.7))
    z = tg.from_numpy(rng.randn(6, 3))
    real = tg.from_numpy(rng.randn(6, 2))

    def g_loss():
        params = dict(D.named_parameters())
        fake = G(z)
        for _ in range(2):
            dr = functional_call(D, params, (real,))
            df = functional_call(D, params, (fake,))
            loss = F.softplus(-dr).mean() + F.softplus(df).mean()
            grads = tg.autograd.grad(loss, list(params.values()), create_graph=True)
            params = {n: p - 0.5 * g for (n, p), g in zip(params.items(), grads)}
        return F.softplus(-functional_call(D, params, (fake,))).mean()

    G.zero_grad()
    g_loss().backward()
    analytic = G.weight.grad.numpy().copy()
    numeric = np.zeros_like(analytic)
    w = G.weight.data
    for idx in np.ndindex(*analytic.shape):
        old = float(w[idx])
        w[idx] = old + 1e-6                          # .data: outside autograd
        up = float(g_loss())
        w[idx] = old - 1e-6
        down = float(g_loss())
        w[idx] = old
        numeric[idx] = (up - down) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)
    # and the unrolled gradient differs from the plain (k = 0) one: the unroll is differentiated
    G.zero_grad()
    F.softplus(-D(G(z))).mean().backward()
    assert np.abs(G.weight.grad.numpy() - analytic).max() > 1e-4


def test_save_load_keeps_parameters_parameters(tmp_path):
    """``torch.save({'rho': module.rho, ...})``: torch.load gives Parameters back (requires_grad
    kept), so ``module.rho = loaded['rho']`` assigns a parameter; plain tensors stay Tensors."""
    rho = nn.Parameter(tg.full((1, 3, 1, 1), 0.9))
    frozen = nn.Parameter(tg.ones(2), requires_grad=False)
    t = tg.ones(2, requires_grad=True)
    path = tmp_path / "p.pt"
    tg.save({"rho": rho, "frozen": frozen, "t": t, "sd": nn.Linear(2, 1).state_dict()}, path)
    d = tg.load(path)
    assert type(d["rho"]) is nn.Parameter and d["rho"].requires_grad
    assert type(d["frozen"]) is nn.Parameter and not d["frozen"].requires_grad
    assert type(d["t"]) is tg.Tensor and d["t"].requires_grad
    assert all(type(v) is tg.Tensor for v in d["sd"].values())
    np.testing.assert_array_equal(d["rho"].numpy(), np.full((1, 3, 1, 1), 0.9, dtype=np.float32))
    m = nn.Module()
    m.rho = d["rho"]
    assert [n for n, _ in m.named_parameters()] == ["rho"]
