"""PyTorch habits that tensorgan honours: each test is a snippet a PyTorch user would write, and
what PyTorch does with it (found by an audit of the public API against torch 2.13)."""
import threading

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn, optim
from tensorgan.errors import DTypeError, InputTypeError, ShapeError, TensorganError


def test_no_grad_is_reentrant_and_per_thread():
    @tg.no_grad()
    def rec(n):
        return rec(n - 1) if n else tg.is_grad_enabled()

    assert rec(2) is False and tg.is_grad_enabled()
    ng = tg.no_grad()
    with ng:
        with ng:
            pass
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.no_grad                                   # without parentheses, as torch allows
    def inner():
        return tg.is_grad_enabled()

    assert inner() is False and tg.is_grad_enabled()
    seen = []
    with tg.no_grad():
        t = threading.Thread(target=lambda: seen.append(tg.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]                          # another thread keeps its own mode


def test_manual_sgd_updates_parameters_in_place():
    lin = nn.Linear(3, 2)
    before = lin.weight.array.copy()
    lin(tg.ones((4, 3))).sum().backward()
    with tg.no_grad():
        for p in lin.parameters():
            p -= 0.1 * p.grad
    np.testing.assert_allclose(lin.weight.array, before - 0.1 * lin.weight.grad.array, rtol=1e-6)
    with pytest.raises(TensorganError, match="no_grad"):
        lin.weight -= 1.0                          # outside no_grad: refused, as in torch
    w = tg.zeros(3)
    w.fill_(2.0).add_(tg.ones(3), alpha=0.5).mul_(2.0)
    assert w.tolist() == [5.0, 5.0, 5.0]
    w.copy_(np.arange(3.0))
    assert w.tolist() == [0.0, 1.0, 2.0] and w.zero_().tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ShapeError, match="copy_"):
        w.copy_(np.ones(4))


def test_numpy_scalars_take_the_tensor_dtype():
    x = tg.ones(2)
    for y in (x * np.float64(2), np.float64(2) * x, x * np.sqrt(2.0), x - np.float64(1), x / np.int64(2)):
        assert y.dtype == np.float32


def test_leaf_gradients_never_share_memory():
    a = tg.randn((2, 3), requires_grad=True)
    b = tg.randn(6, requires_grad=True)
    c = tg.randn((3, 2), requires_grad=True)
    ((a + b.reshape(2, 3) + c.T) * 2).sum().backward()
    assert not np.shares_memory(a.grad.array, b.grad.array)
    assert not np.shares_memory(a.grad.array, c.grad.array)
    p = tg.randn(3, requires_grad=True)
    v = np.ones(3, np.float32)
    (p + 0).backward(v)
    v[:] = 7
    assert p.grad.tolist() == [1.0, 1.0, 1.0]


def test_sequential_runs_a_replaced_layer():
    s = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    setattr(s, "1", nn.Sigmoid())
    y = s(tg.ones((1, 2)))
    assert (y.array > 0).all()                      # a sigmoid's output, which tanh's need not be
    np.testing.assert_allclose(y.array, 1 / (1 + np.exp(-s[0](tg.ones((1, 2))).array)), rtol=1e-6)


def test_assigning_a_plain_tensor_to_a_parameter_is_refused():
    lin = nn.Linear(5, 3)
    with pytest.raises(InputTypeError, match="weight"):
        lin.weight = tg.randn((3, 5))
    assert "weight" in lin.state_dict()
    lin.weight = nn.Parameter(np.zeros((3, 5), np.float32))    # a Parameter is fine
    assert lin.weight.array.sum() == 0 and len(list(lin.parameters())) == 2


def test_truth_value_and_python_number_conversions():
    assert not bool(tg.tensor([0.0])) and bool(tg.tensor(1.0))
    with pytest.raises(ShapeError, match="ambiguous"):
        bool(tg.tensor([1.0, 2.0]))
    loss = tg.tensor(0.12345)
    assert f"{loss:.3f}" == "0.123" and float(loss) == pytest.approx(0.12345)
    assert tg.ones((2, 3)).dim() == 2


def test_cat_stack_and_flatten_check_their_axes():
    x = tg.ones((2, 3))
    for bad in (2, -3):
        with pytest.raises(ShapeError, match="out of range"):
            tg.cat([x, x], axis=bad)
    with pytest.raises(ShapeError, match="out of range"):
        tg.stack([x, x], axis=5)
    assert tg.cat([x, x], dim=1).shape == (2, 6) and tg.stack([x, x], dim=-1).shape == (2, 3, 2)
    with pytest.raises(ShapeError, match="start_dim"):
        nn.Flatten(2, 1)(tg.ones((2, 3, 8, 8)))
    with pytest.raises(ShapeError, match="start_dim"):
        tg.ones((2, 3, 8, 8)).flatten(2, 1)


def test_reductions_take_dim_and_keepdim():
    x = tg.tensor(np.arange(6.0).reshape(2, 3))
    assert x.sum(dim=1, keepdim=True).shape == (2, 1)
    assert x.mean(dim=0).tolist() == [1.5, 2.5, 3.5]
    with pytest.raises(InputTypeError, match="not both"):
        x.sum(0, dim=1)
    # An empty dim is every dim in PyTorch (15 = 0 + 1 + ... + 5); NumPy's empty axis is none.
    assert x.sum(dim=()).item() == 15 and x.mean(dim=[]).item() == 2.5
    assert x.amax(dim=()).item() == 5 and x.amin(dim=(), keepdim=True).shape == (1, 1)
    assert x.sum(axis=()).tolist() == x.tolist()


def test_edge_values_match_torch():
    x = tg.tensor([1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        assert (1 / (1 - x)).item() == float("inf")      # 1 - 1 is +0, not -0
    z = tg.tensor([0.0, 2.0], requires_grad=True)
    (z ** 0).sum().backward()
    assert z.grad.tolist() == [0.0, 0.0]                  # not NaN at 0


def test_dcgan_idioms_from_pytorch_code():
    calls = []

    def weights_init(m):
        calls.append(type(m).__name__)
        if isinstance(m, nn.Linear):
            m.weight.array[...] = 0.5

    net = nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.2, inplace=True), nn.ReLU(True))
    assert net.apply(weights_init) is net
    assert calls == ["Linear", "LeakyReLU", "ReLU", "Sequential"]    # children first
    assert (net[0].weight.array == 0.5).all()
    result = net.load_state_dict({"0.weight": np.ones((2, 2), np.float32)}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == []
    missing, unexpected = result                          # still a tuple


def test_zero_grad_set_to_none_and_step_closure():
    lin = nn.Linear(2, 1)
    opt = optim.SGD(lin.parameters(), lr=0.1)

    def closure():
        opt.zero_grad()
        loss = lin(tg.ones((3, 2))).sum()
        loss.backward()
        return loss

    w = lin.weight.array.copy()
    loss = opt.step(closure)
    assert isinstance(loss, tg.Tensor) and not np.array_equal(w, lin.weight.array)
    opt.zero_grad(set_to_none=False)
    assert lin.weight.grad is not None and not lin.weight.grad.array.any()
    lin.zero_grad()
    assert lin.weight.grad is None


def test_tensor_copies_its_data():
    a = np.zeros(3, np.float32)
    t = tg.tensor(a)
    a[:] = 1
    assert t.tolist() == [0.0, 0.0, 0.0]


def test_axis_and_argument_forms_get_typed_errors():
    x = tg.ones((2, 3))
    assert x.sum(np.int64(1)).shape == (2,) and tg.tensor(2.0).sum(0).item() == 2.0
    with pytest.raises(ShapeError, match="twice"):
        x.sum((0, 0))
    with pytest.raises(InputTypeError, match="axis"):
        x.sum("a")
    with pytest.raises(ShapeError, match="permut"):
        x.permute("a", 0)
    assert (2 ** tg.tensor([1.0, 3.0])).tolist() == [2.0, 8.0]
    y = tg.tensor([0.5], requires_grad=True)
    (3 ** y).sum().backward()
    assert y.grad.item() == pytest.approx(np.log(3) * 3 ** 0.5, rel=1e-6)
    from tensorgan import functional as F
    assert F.conv2d(tg.ones((1, 1, 4, 4)), tg.ones((1, 1, 2, 2)), stride=np.int64(2)).shape == (1, 1, 2, 2)


def test_loss_functions_and_modules():
    from tensorgan import functional as F
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, (3, 4))
    t = rng.uniform(0, 1, (3, 4))
    z = rng.standard_normal((3, 4))
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert nn.BCELoss()(tg.tensor(p), tg.tensor(t)).item() == pytest.approx(bce.astype(np.float32).mean(), rel=1e-5)
    assert nn.BCELoss(reduction="sum")(tg.tensor(p), t).item() == pytest.approx(bce.sum(), rel=1e-5)
    sig = 1 / (1 + np.exp(-z))
    want = -(t * np.log(sig) + (1 - t) * np.log(1 - sig))
    assert nn.BCEWithLogitsLoss(reduction="none")(tg.tensor(z), t).numpy() == pytest.approx(want, rel=1e-5)
    assert nn.MSELoss()(tg.tensor(z), tg.tensor(t)).item() == pytest.approx(((z - t) ** 2).mean(), rel=1e-5)
    assert F.binary_cross_entropy(tg.tensor([0.0, 1.0]), [1.0, 0.0]).item() == pytest.approx(100.0)
    with pytest.raises(tg.errors.DataError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(tg.tensor([1.5]), [1.0])
    # gradients for input *and* target, float64 central differences
    for fn, a in ((F.binary_cross_entropy, p), (F.binary_cross_entropy_with_logits, z), (F.mse_loss, z)):
        for reduction in ("mean", "sum"):
            x = tg.tensor(a, dtype="float64", requires_grad=True)
            y = tg.tensor(t, dtype="float64", requires_grad=True)
            assert tg.gradcheck(lambda x, y: fn(x, y, reduction), [x, y]), (fn.__name__, reduction)


def test_module_list_and_sequential_slices_keep_names():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return x

    net = Net()
    assert len(list(net.parameters())) == 4 and "blocks.1.bias" in net.state_dict()
    assert net(tg.ones((1, 2))).shape == (1, 2) and len(net.blocks[1:]) == 1
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert list(seq[1:].state_dict()) == ["2.weight", "2.bias"]
    with pytest.raises(IndexError, match="out of range"):
        seq[5]
    with pytest.raises(IndexError, match="out of range"):
        net.blocks[2]


def test_data_is_a_tensor_sharing_memory_outside_autograd():
    """torch's ``.data``: the idioms of GAN scripts (DCGAN init, WGAN clipping) write the parameter."""
    lin = nn.Linear(3, 4)
    d = lin.weight.data
    assert isinstance(d, tg.Tensor) and not isinstance(d, nn.Parameter)
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.array, lin.weight.array) and d.shape == (4, 3) and d.dtype == np.float32
    lin.weight.data.normal_(0.0, 0.02, generator=tg.Generator(0))       # in place on a leaf needing grad
    want = nn.init.normal_(tg.zeros((4, 3)), 0.0, 0.02, generator=tg.Generator(0))
    np.testing.assert_array_equal(lin.weight.array, want.array)
    lin.weight.data.fill_(1.0)
    lin.weight.data.clamp_(-0.01, 0.01)                                  # WGAN's weight clipping
    assert (lin.weight.array == np.float32(0.01)).all() and lin.weight.requires_grad
    nn.init.constant_(lin.bias.data, 0.5)                               # the PyTorch DCGAN tutorial's init
    assert (lin.bias.array == 0.5).all()
    lin(tg.ones((2, 3))).sum().backward()
    lin.weight.grad.data.zero_()
    assert not lin.weight.grad.array.any() and lin.bias.grad.array.all()
    y = (lin.weight.data * 2).sum()                                     # no history through .data
    assert not y.requires_grad and y.grad_fn is None
    assert type((lin.weight * 2).sum().grad_fn).__name__ == "Sum" and lin.weight.grad_fn is None


def test_data_assignment_replaces_the_memory_as_torch():
    p = nn.Parameter(tg.zeros(3))
    new = tg.tensor([1.0, 2.0, 3.0, 4.0])
    p.data = new                                                        # torch allows a new shape
    assert p.shape == (4,) and p.requires_grad and np.shares_memory(p.array, new.array)
    p.data = np.ones(2, np.float32)                                     # an array on p's device works too
    assert p.tolist() == [1.0, 1.0]
    q = nn.Parameter(p.data)                                            # shares memory, as torch's
    assert np.shares_memory(q.array, p.array) and q.requires_grad
    with pytest.raises(InputTypeError, match=r"tensor\.data = \.\.\.: expected a Tensor, got list"):
        p.data = [1.0, 2.0]
    with pytest.raises(DTypeError, match="got an array of dtype uint16; tensors hold float32"):
        p.data = np.arange(3, dtype=np.uint16)
    with pytest.raises(DTypeError, match="requires grad cannot hold a int64"):
        p.data = np.arange(3)
    with pytest.raises(DTypeError, match="requires grad cannot hold a bool"):
        p.data = tg.tensor([True, False])
    with pytest.warns(UserWarning, match=r"detach\(\)\.clone\(\)"):     # torch: a copy, warned
        copied = tg.tensor(p.data)
    assert not np.shares_memory(copied.array, p.array) and not copied.requires_grad


def test_init_functions_take_the_data_array_as_pytorch_code_passes_it():
    conv = nn.Conv2d(4, 8, 3)
    assert nn.init.normal_(conv.weight.array, 0.0, 0.02, generator=tg.Generator(0)) is conv.weight.array
    assert abs(float(conv.weight.array.std()) - 0.02) < 0.004
    nn.init.zeros_(conv.bias.array)
    assert not conv.bias.array.any()
    w = nn.init.kaiming_normal_(tg.zeros((256, 64)), nonlinearity="relu", generator=tg.Generator(1))
    assert float(w.array.std()) == pytest.approx(np.sqrt(2 / 64), rel=0.05)
    with pytest.raises(InputTypeError, match="normal_"):
        nn.init.normal_("weights")


def test_indexing_with_a_tensor_of_whole_numbers():
    y = tg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    picked = y[tg.tensor([0, 2])]
    assert picked.tolist() == [[0, 1, 2], [6, 7, 8]]
    picked.sum().backward()
    assert y.grad.numpy()[:, 0].tolist() == [1, 0, 1, 0]
    with pytest.raises(InputTypeError, match="whole numbers"):
        y[tg.tensor([0.5])]
    with pytest.raises(IndexError, match="float32"):        # whole values, float dtype: torch's IndexError
        y[tg.tensor([0.0, 2.0])]
    assert y[np.array([0.0, 1.0])].tolist() == [[0, 1, 2], [3, 4, 5]]   # an array: a sequence,
    with pytest.raises(InputTypeError, match="integer"):              # read as int64, as torch
        y[0.0]


def test_amax_amin_max_min_squeeze_unsqueeze():
    x = tg.tensor([[1.0, 5.0, 5.0], [-2.0, 0.0, -3.0]], dtype="float64", requires_grad=True)
    assert x.max().item() == 5.0 and x.min().item() == -3.0
    assert x.amax(dim=1).tolist() == [5.0, 0.0] and x.amin(1, keepdim=True).shape == (2, 1)
    x.amax().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]        # ties share, as in torch
    assert x.max(dim=1).values.tolist() == [5.0, 0.0] and x.max(dim=1).indices.tolist() == [1.0, 1.0]
    y = tg.tensor(np.random.default_rng(0).standard_normal((3, 4)), dtype="float64", requires_grad=True)
    for f in (lambda t: t.amax(1), lambda t: t.amin(0, keepdim=True), lambda t: t.amax().reshape(1)):
        assert tg.gradcheck(f, [y])
    z = tg.ones((2, 1, 3))
    assert z.squeeze().shape == (2, 3) and z.squeeze(1).shape == (2, 3) and z.squeeze(0).shape == (2, 1, 3)
    assert z.unsqueeze(0).shape == (1, 2, 1, 3) and z.unsqueeze(-1).shape == (2, 1, 3, 1)
    with pytest.raises(ShapeError, match="unsqueeze"):
        z.unsqueeze(5)


def test_an_input_modified_in_place_after_use_is_caught_at_backward():
    w = tg.tensor([2.0, 3.0], requires_grad=True)
    x = tg.tensor([1.0, 1.0])
    y = (w * x).sum()
    x += 5.0                                   # x does not require grad: allowed, but w's grad needs old x
    with pytest.raises(TensorganError, match="modified in place"):
        y.backward()
    y = (w * x).sum()                          # a graph built after the update is fine
    y.backward()
    assert w.grad.tolist() == [6.0, 6.0]
    with tg.no_grad():
        w -= 0.5 * w.grad                      # the optimizer idiom, after backward: no error
    (w * x).sum().backward()


# ------------------------------------------------------------------ optimizer.state, AdamW, BN1d
def _stepped(opt_cls, **kw):
    lin = nn.Linear(3, 2)
    opt = opt_cls(lin.parameters(), **kw)
    return lin, opt


def test_optimizer_state_is_looked_up_by_parameter_as_in_pytorch():
    lin, opt = _stepped(optim.Adam, lr=0.1)
    assert opt.state[lin.weight] == {} and lin.weight not in opt.state and len(opt.state) == 0
    lin(tg.ones((4, 3))).sum().backward()
    opt.step()
    s = opt.state[lin.weight]
    assert s["step"] == 1 and s["exp_avg"].shape == (2, 3) and s["exp_avg_sq"].shape == (2, 3)
    assert s is opt.state[0]                                     # by position, as state_dict stores it
    assert lin.weight in opt.state and list(opt.state) == [lin.weight, lin.bias]
    assert [p for p, _ in opt.state.items()] == list(opt.state.keys())
    s["exp_avg"][...] = 0                                        # the live state, not a copy
    assert not opt.state_dict()["state"][0]["exp_avg"].any()
    with pytest.raises(KeyError, match="not one of the optimizer's parameters"):
        opt.state[nn.Linear(3, 2).weight]
    with pytest.raises(InputTypeError, match="parameter or its position"):
        opt.state["weight"]
    opt.load_state_dict(opt.state_dict())                        # the view follows a reload
    assert opt.state[lin.weight]["step"] == 1


def test_adamw_decays_the_weights_outside_the_moments():
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((4, 5))
    p = nn.Parameter(tg.tensor(p0, dtype="float64"))
    lr, wd, (b1, b2), eps = 0.01, 0.1, (0.9, 0.999), 1e-8
    opt = optim.AdamW([p], lr=lr, weight_decay=wd)
    want, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    for t in (1, 2, 3):                                           # torch.optim.AdamW's formula
        g = rng.standard_normal(p0.shape)
        p.grad = tg.tensor(g, dtype="float64")
        opt.step()
        want *= 1 - lr * wd
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        want -= lr / (1 - b1 ** t) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
    np.testing.assert_allclose(p.array, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(opt.state[p]["exp_avg"], m, rtol=1e-12)   # no decay in the moments
    assert optim.AdamW([p]).param_groups[0]["weight_decay"] == 1e-2       # PyTorch's default
    with pytest.raises(tg.CheckpointError, match="for AdamW"):
        optim.Adam([p]).load_state_dict(opt.state_dict())
    with pytest.raises(tg.ConfigError, match="AdamW: betas"):
        optim.AdamW([p], betas=(0.9,))


def test_adamw_without_decay_is_adam():
    (la, a), (lw, w) = _stepped(optim.Adam), _stepped(optim.AdamW, weight_decay=0.0)
    lw.load_state_dict(la.state_dict())
    for lin, opt in ((la, a), (lw, w)):
        lin(tg.ones((4, 3))).sum().backward()
        opt.step()
    np.testing.assert_array_equal(la.weight.array, lw.weight.array)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm1d_takes_sequences_n_c_l(training):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 5)).astype(np.float32)
    bn = nn.BatchNorm1d(3, momentum=0.5)
    bn.weight.array[...] = [1.5, 0.5, -0.7]
    bn.running_mean.array[...] = [0.1, -0.2, 0.3]
    bn.train(training)
    y = bn(tg.tensor(x))
    assert y.shape == (4, 3, 5)
    if training:
        mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
        np.testing.assert_allclose(bn.running_mean.array, 0.5 * np.array([0.1, -0.2, 0.3]) + 0.5 * mean,
                                   rtol=1e-5)
        np.testing.assert_allclose(bn.running_var.array, 0.5 + 0.5 * var * 20 / 19, rtol=1e-5)
    else:
        mean, var = np.array([0.1, -0.2, 0.3]), np.ones(3)
    want = (x - mean[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5) * np.array([1.5, 0.5, -0.7])[None, :, None]
    np.testing.assert_allclose(y.array, want, rtol=1e-4, atol=1e-5)
    fused = nn.Sequential(nn.BatchNorm1d(3), nn.LeakyReLU(0.2))   # runs batch_norm_leaky_relu
    fused.train(training)
    z = fused(tg.tensor(x)).array
    ref = fused[0](tg.tensor(x)).array
    np.testing.assert_allclose(z, np.where(ref < 0, 0.2 * ref, ref), rtol=1e-5, atol=1e-6)
    with pytest.raises(ShapeError, match=r"\(N, C\) or \(N, C, L\)"):
        bn(tg.tensor(np.zeros((2, 3, 4, 5), dtype=np.float32)))


def test_batch_norm_on_sequences_is_gradchecked():
    from tensorgan import functional as F
    rng = np.random.default_rng(2)
    x = tg.tensor(rng.standard_normal((3, 2, 4)), dtype="float64", requires_grad=True)
    w = tg.tensor(rng.standard_normal(2), dtype="float64", requires_grad=True)
    b = tg.tensor(rng.standard_normal(2), dtype="float64", requires_grad=True)
    tg.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])
    tg.gradcheck(lambda x, w, b: F.batch_norm_leaky_relu(x, None, None, w, b, True, 0.1, 1e-5, 0.2),
                 [x, w, b])


@pytest.mark.parametrize("opt_cls, wd", [(optim.Adam, 0.0), (optim.AdamW, 0.1)])
def test_amsgrad_keeps_the_running_maximum_of_the_second_moment(opt_cls, wd):
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal((3, 4))
    p = nn.Parameter(tg.tensor(p0, dtype="float64"))
    lr, (b1, b2), eps = 0.01, (0.9, 0.99), 1e-8
    opt = opt_cls([p], lr=lr, betas=(b1, b2), weight_decay=wd, amsgrad=True)
    want, m, v, vmax = p0.copy(), np.zeros_like(p0), np.zeros_like(p0), np.zeros_like(p0)
    for t, scale in ((1, 3.0), (2, 0.1), (3, 0.1)):       # a large gradient, then small ones
        g = scale * rng.standard_normal(p0.shape)
        p.grad = tg.tensor(g, dtype="float64")
        opt.step()
        want *= 1 - lr * wd                                # AdamW's decay (0 for Adam here)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)                         # torch.optim.Adam(amsgrad=True)
        want -= lr / (1 - b1 ** t) * m / (np.sqrt(vmax) / np.sqrt(1 - b2 ** t) + eps)
    np.testing.assert_allclose(p.array, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(opt.state[p]["max_exp_avg_sq"], vmax, rtol=1e-12)
    assert (vmax > v).any()                                # the maximum mattered
    again = opt_cls([nn.Parameter(tg.tensor(p0, dtype="float64"))], amsgrad=True)
    again.load_state_dict(opt.state_dict())                # the maximum survives a checkpoint
    np.testing.assert_array_equal(again.state[0]["max_exp_avg_sq"], opt.state[p]["max_exp_avg_sq"])
    with pytest.raises(tg.ConfigError, match="amsgrad must be True or False"):
        opt_cls([p], amsgrad="yes")


# -- edge values, from a differential run against torch 2.13 (each failed before its fix) ---------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_keeps_its_digits_for_negative_inputs(dtype):
    x = np.array([-800.0, -100.0, -40.0, -20.0, -17.0, -10.0, -1e-3, 0.0, 1e-3, 10.0, 40.0, 800.0])
    with np.errstate(over="ignore"):
        exact = 1.0 / (1.0 + np.exp(-x))                    # float64; exp(800) -> inf -> 0, right
    got = tg.tensor(x, dtype=dtype).sigmoid().numpy()
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(got, exact.astype(dtype), rtol=4 * np.finfo(dtype).eps, atol=tiny)
    # ... and so the gradient of Sigmoid + BCELoss does not vanish while sigmoid is representable
    logits = tg.tensor([-15.0, -18.0, -25.0], requires_grad=True)
    nn.BCELoss()(nn.Sigmoid()(logits), tg.ones(3)).backward()
    np.testing.assert_allclose(logits.grad.numpy(), -1 / 3, rtol=1e-5)


def test_relu_of_minus_infinity_is_zero_not_nan_nor_minus_zero():
    y = tg.tensor([-np.inf, -1.0, 0.0, 2.0, np.inf]).relu().numpy()
    assert y.tolist() == [0.0, 0.0, 0.0, 2.0, np.inf] and not np.signbit(y).any()


def test_squeeze_takes_a_tuple_of_dims():
    x = tg.zeros(1, 2, 1)
    assert x.squeeze((0, 2)).shape == (2,) and x.squeeze((0, 1)).shape == (2, 1)
    assert x.squeeze((-1,)).shape == (1, 2)


def test_dim_minus_one_of_a_0d_tensor_is_the_whole_tensor():
    t = tg.tensor(2.5)
    assert t.sum(dim=-1).item() == 2.5 and t.mean(-1).item() == 2.5 and t.amax(-1).item() == 2.5
    with pytest.raises(ShapeError):
        t.sum(dim=-2)


def test_mean_of_nothing_is_nan():
    assert np.isnan(tg.zeros(0).mean().item())
    assert np.isnan(tg.zeros(0, 3).mean(0).numpy()).all() and tg.zeros(3, 0).mean(0).shape == (0,)
    x = tg.zeros(0, 3, requires_grad=True)
    x.mean().backward()
    assert x.grad.shape == (0, 3)


def test_leaky_relu_gradient_at_zero_is_the_slope_as_in_torch():
    # torch: grad * (1 if x > 0 else negative_slope) -- so the slope at 0, and at NaN.
    x = tg.tensor([-2.0, 0.0, 3.0, np.nan], requires_grad=True)
    tg.functional.leaky_relu(x, 0.2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.2, 0.2, 1.0, 0.2])
    lrelu = nn.LeakyReLU(0.2)
    y = tg.tensor([0.0, -0.0, 1e-30], requires_grad=True)
    lrelu(y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [0.2, 0.2, 1.0])


@pytest.mark.parametrize("training", [True, False])
def test_fused_batch_norm_leaky_relu_takes_the_slope_at_zero(training):
    # One channel of -1, 0, 1: mean 0 exactly, so with bias 0 the middle z is exactly 0.
    x = np.array([[-1.0], [0.0], [1.0]])
    gy = np.array([[0.5], [2.0], [-1.0]])
    running_mean, running_var = np.zeros(1), np.ones(1)
    xt = tg.tensor(x, dtype="float64", requires_grad=True)
    out = tg.functional.batch_norm_leaky_relu(
        xt, tg.tensor(running_mean.copy(), dtype="float64"), tg.tensor(running_var.copy(), dtype="float64"),
        tg.ones(1, dtype="float64"), tg.zeros(1, dtype="float64"), training, 0.1, 1e-5, 0.2)
    out.backward(tg.tensor(gy, dtype="float64"))
    # By hand: the leaky ReLU's mask (1 only where z > 0), then batch norm's backward.
    mean, var = (x.mean(0), x.var(0)) if training else (running_mean, running_var)
    invstd = 1 / np.sqrt(var + 1e-5)
    xhat = (x - mean) * invstd
    g = gy * np.where(xhat > 0, 1.0, 0.2)
    gx = invstd * (g - g.mean(0) - xhat * (g * xhat).mean(0)) if training else invstd * g
    np.testing.assert_allclose(xt.grad.numpy(), gx, rtol=1e-10, atol=1e-12)


# -- comparisons and masks: bool tensors outside the graph ----------------------------------------
def test_comparisons_give_bool_masks_that_index_count_and_promote():
    d_out = tg.tensor([-1.5, 0.0, 0.3, 2.0], requires_grad=True)
    real = d_out > 0
    assert real.dtype == np.bool_ and not real.requires_grad
    assert real.numpy().tolist() == [False, False, True, True]
    # the GAN loop's discriminator accuracy, as written for torch
    assert (d_out > 0).float().mean().item() == 0.5 and real.sum().item() == 2.0
    assert ((d_out >= 0) & ~(d_out > 1)).numpy().tolist() == [False, True, True, False]
    assert ((d_out < 0) | False).numpy().tolist() == [True, False, False, False]
    assert (d_out == d_out).numpy().tolist() == [True] * 4            # elementwise, as torch
    assert (d_out != 0.0).numpy().tolist() == [True, False, True, True]
    assert ((d_out.argmax() == 1.0) | (d_out == d_out.amax())).numpy().tolist() == [False, False, False, True]
    assert len({d_out, d_out.detach(), d_out}) == 2                  # hashed by identity
    assert (d_out <= tg.tensor([0.0, 0.0, 0.0, 0.0])).numpy().tolist() == [True, True, False, False]
    assert d_out.eq(tg.tensor([-1.5, 1.0, 0.3, 0.0])).numpy().tolist() == [True, False, True, False]
    assert (real.any().item(), real.all().item()) == (True, False)
    # a mask indexes as a mask -- a float 0/1 tensor would have picked elements 0 and 1
    picked = d_out[real]
    picked.sum().backward()
    assert picked.numpy().tolist() == [0.30000001192092896, 2.0]
    assert d_out.grad.numpy().tolist() == [0.0, 0.0, 1.0, 1.0]
    # arithmetic promotes the mask to 0/1 in the other side's dtype, as torch does
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = real * x + (~real) * 10          # a mask with a number: float32, tensorgan's default
    assert y.dtype == tg.float32 and y.numpy().tolist() == [10.0, 10.0, 3.0, 4.0]
    y.sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0, 1.0, 1.0]
    assert (tg.tensor([1.0, 2.0], dtype="float64") * (tg.tensor([1.0, -1.0]) > 0)).dtype == tg.float64
    assert tg.tensor([True, False]).dtype == np.bool_ and tg.tensor([1.0, 0.0]).dtype == tg.float32


def test_bool_tensors_refuse_gradients_and_subtraction():
    mask = tg.randn(3, 4) > 0
    with pytest.raises(tg.DTypeError, match="require gradients"):
        mask.requires_grad_()
    with pytest.raises(tg.DTypeError, match="require gradients"):
        tg.tensor([True, False], requires_grad=True)
    assert mask.exp().dtype == tg.float32             # float math promotes a mask, as torch
    with pytest.raises(tg.DTypeError, match="bool tensor"):
        mask - mask                                      # torch refuses - on masks too
    with pytest.raises(tg.DTypeError, match="bool tensors"):
        tg.randn(3) & mask[0, :3]
    assert mask.reshape(12).shape == (12,) and mask.T.shape == (4, 3)
    assert tg.cat([mask, mask]).shape == (6, 4) and mask[1:].dtype == np.bool_
    with pytest.raises(tg.DTypeError, match="detach"):
        tg.randn(2, requires_grad=True).to("bool")


def test_where_takes_either_side_and_sends_the_gradient_there():
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.standard_normal((3, 4)), dtype="float64", requires_grad=True)
    y = tg.tensor(rng.standard_normal((1, 4)), dtype="float64", requires_grad=True)   # broadcast
    cond = x > 0
    out = tg.where(cond, x, y)
    np.testing.assert_array_equal(out.numpy(), np.where(x.numpy() > 0, x.numpy(), y.numpy()))
    assert tg.gradcheck(lambda a, b: tg.where(cond, a, b), [x, y])
    assert tg.where(cond, x, 0.0).numpy().min() >= 0 and tg.where(cond, 1.0, x).dtype == tg.float64
    leaky = tg.where(x > 0, x, 0.2 * x)                            # leaky ReLU, the torch way
    np.testing.assert_allclose(leaky.numpy(), tg.functional.leaky_relu(x, 0.2).numpy())
    with pytest.raises(tg.DTypeError, match="bool tensor"):
        tg.where(x, x, y)
    with pytest.raises(ShapeError, match="broadcast"):
        tg.where(cond, x, tg.zeros(5, dtype="float64"))


# -- Module and init details, from a differential run against torch 2.13 --------------------------
class _Shared(nn.Module):
    def __init__(self):
        super().__init__()
        lin = nn.Linear(2, 2)
        self.a = lin
        self.b = nn.Sequential(lin, nn.ReLU())
        self.c = lin


def test_a_shared_module_is_listed_once_but_saved_under_every_name():
    m = _Shared()
    assert [n for n, _ in m.named_modules()] == ["", "a", "b", "b.1"]
    assert [n for n, _ in m.named_children()] == ["a", "b"]
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["a.weight", "a.bias", "b.0.weight", "b.0.bias", "c.weight", "c.bias"]
    calls = []
    m.apply(lambda mod: calls.append(type(mod).__name__))
    assert calls.count("Linear") == 2 and len(list(nn.Sequential(m.a, m.a).named_modules())) == 2


def test_none_keeps_a_parameter_or_child_slot_and_its_place():
    lin = nn.Linear(2, 2)
    lin.weight = None
    lin.weight = nn.Parameter(tg.zeros(2, 2))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    with pytest.raises(InputTypeError):
        lin.bias = None or tg.zeros(2)            # a plain tensor in a parameter slot
    m = _Shared()
    m.b = None                                     # the slot stays, and so does its place
    m.b = nn.Tanh()
    assert [n for n, _ in m.named_children()] == ["a", "b"]
    with pytest.raises(InputTypeError, match="child module"):
        m.b = 5
    with pytest.raises(InputTypeError):
        m.add_module("x", 5)
    with pytest.raises(tg.ConfigError):
        m.add_module("a.b", nn.Tanh())


def test_deleted_buffer_stays_deleted_and_integral_floats_load_into_counters():
    bn = nn.BatchNorm1d(3)
    del bn.running_mean
    bn.running_mean = tg.zeros(3)                  # a plain attribute now, as in torch
    assert "running_mean" not in bn.state_dict()
    bn2 = nn.BatchNorm1d(3)
    state = {k: np.asarray(v, dtype=np.float64) for k, v in bn2.state_dict().items()}
    state["num_batches_tracked"] = np.float64(7.0)
    bn2.load_state_dict(state)
    assert int(np.asarray(bn2.num_batches_tracked)) == 7
    state["num_batches_tracked"] = np.float64(7.5)
    with pytest.raises(tg.CheckpointError):
        bn2.load_state_dict(state)


def test_module_cast_keeps_gradients_and_train_wants_a_bool():
    lin = nn.Linear(2, 1)
    lin(tg.ones(1, 2)).sum().backward()
    lin.double()
    assert lin.weight.grad is not None and lin.weight.grad.dtype == tg.float64
    with pytest.raises(InputTypeError):
        lin.train("no")


def test_init_names_and_gains_as_torch():
    w = nn.Parameter(tg.zeros(3, 3))
    nn.init.constant_(w, val=0.3)
    assert np.allclose(w.numpy(), 0.3)
    assert [nn.init.calculate_gain(k) for k in ("conv1d", "conv3d", "conv_transpose1d", "selu")] == [1, 1, 1, 0.75]
    optim.Adam([nn.Parameter(tg.zeros(2))], eps=0.0)        # torch accepts eps = 0


def test_buffers_that_are_not_saved_recurse_false_and_batch_norm_resets():
    class WithNoise(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.register_buffer("noise", tg.randn(4), persistent=False)
            self.register_buffer("scale", tg.ones(1))
    m = WithNoise()
    assert list(m.state_dict()) == ["scale", "lin.weight", "lin.bias"]   # own first, as torch
    assert [n for n, _ in m.named_buffers()] == ["noise", "scale"]
    m.load_state_dict(m.state_dict())                       # the transient buffer is not expected
    assert list(m.parameters(recurse=False)) == [] and len(list(m.lin.parameters(recurse=False))) == 2
    assert [n for n, _ in m.named_buffers(recurse=False)] == ["noise", "scale"]
    bn = nn.BatchNorm2d(2)
    bn(tg.randn(4, 2, 3, 3))
    bn.weight.array[...] = 3.0
    bn.reset_running_stats()
    assert bn.running_mean.numpy().tolist() == [0, 0] and bn.running_var.numpy().tolist() == [1, 1]
    assert int(np.asarray(bn.num_batches_tracked)) == 0 and bn.weight.numpy().tolist() == [3, 3]
    bn.reset_parameters()
    assert bn.weight.numpy().tolist() == [1, 1] and bn.bias.numpy().tolist() == [0, 0]


def test_sequential_and_module_list_edit_in_place_with_torch_numbering():
    s = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    s.insert(1, nn.ReLU())
    s.insert(-1, nn.Sigmoid())
    s.extend([nn.Identity()])
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU", "Tanh", "Sigmoid", "Linear", "Identity"]
    assert list(s.state_dict()) == ["0.weight", "0.bias", "4.weight", "4.bias"]
    first = s.pop(0)
    s[1] = nn.Tanh()
    del s[-1]
    del s[0:1]
    assert isinstance(first, nn.Linear) and [type(m).__name__ for m in s] == ["Tanh", "Sigmoid", "Linear"]
    assert list(s.state_dict()) == ["2.weight", "2.bias"] and s(tg.ones(4, 3)).shape == (4, 1)
    with pytest.raises(IndexError):
        s.insert(9, nn.Tanh())
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Tanh()])
    ml.insert(1, nn.ReLU())
    del ml[0]
    ml[1] = nn.Linear(2, 2)
    assert [type(m).__name__ for m in ml] == ["ReLU", "Linear"] and list(ml.state_dict()) == ["1.weight", "1.bias"]


@pytest.mark.parametrize("opt_cls, kw", [(optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
                                         (optim.Adam, dict(lr=0.01, weight_decay=0.01)),
                                         (optim.AdamW, dict(lr=0.01))])
def test_maximize_ascends_exactly_as_descending_on_the_negated_objective(opt_cls, kw):
    w0 = np.random.default_rng(0).standard_normal(5)
    up, down = (nn.Parameter(tg.tensor(w0, dtype="float64")) for _ in range(2))
    opt_up, opt_down = opt_cls([up], maximize=True, **kw), opt_cls([down], **kw)
    for _ in range(4):
        for p, opt, sign in ((up, opt_up, 1.0), (down, opt_down, -1.0)):
            opt.zero_grad()
            (sign * (p * p).sum()).backward()
            opt.step()
    np.testing.assert_array_equal(up.numpy(), down.numpy())
    assert np.abs(up.numpy()).sum() > np.abs(w0).sum()          # x^2 climbed
    with pytest.raises(tg.ConfigError, match="maximize"):
        opt_cls([up], maximize="yes", **kw)


def test_get_submodule_follows_the_dotted_path():
    m = _Shared()
    assert m.get_submodule("b.1") is m.b[1] and m.get_submodule("") is m
    with pytest.raises(AttributeError, match="'x'"):
        m.get_submodule("b.x")


def test_an_int_index_beside_an_array_index_selects_first_as_in_torch():
    # NumPy counts the 0 as one more array index and, the array indices being apart, puts their
    # dim first: x[0, :, [0, 1]] would be (2, 3). torch selects with the int first: (3, 2).
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x[0, :, [0, 1]]
    assert y.tolist() == [[0, 1], [4, 5], [8, 9]]
    assert x[0, :, tg.tensor([True, False, True, False])].tolist() == [[0, 2], [4, 6], [8, 10]]
    assert x[1, None, [0, 0]].shape == (1, 2, 4) and x[1, None, [0, 0]][0, 1, 3].item() == 15
    assert x[..., 0, [1, 0]].tolist() == [[1, 0], [13, 12]]
    assert x[[1, 0], :, 0].tolist() == [[12, 16, 20], [0, 4, 8]]  # no int-and-array gap: as before
    (y * tg.tensor(np.array([[1.0, 2.0]] * 3))).sum().backward()
    expected = np.zeros((2, 3, 4))
    expected[0, :, 0], expected[0, :, 1] = 1.0, 2.0
    assert np.array_equal(x.grad.numpy(), expected)


def test_torch_edge_cases_from_the_tensor_audit():
    F = tg.functional
    x = tg.tensor(-2.0, requires_grad=True)          # 0-d in, 0-d out
    y = F.leaky_relu(x, 0.2)
    y.backward()
    assert y.shape == () and x.grad.item() == pytest.approx(0.2)
    with pytest.raises(ShapeError, match="out of range"):   # (an IndexError too, as torch)
        tg.zeros(2, 3).permute(0, 5)                  # 5 % 2 == 1 used to pass
    assert tg.zeros(0, 3).flatten(1).shape == (0, 3) and nn.Flatten()(tg.zeros(0, 2, 3, 3)).shape == (0, 18)
    assert tg.zeros(0, 3).amax(dim=1).shape == (0,)  # the reduced dim is not the empty one
    with pytest.raises(ShapeError, match="empty dim"):
        tg.zeros(0, 3).amax(dim=0)
    with pytest.raises(ShapeError, match="batch dims"):
        tg.zeros(2, 3, 4) @ tg.zeros(5, 4, 2)
    with pytest.raises(ShapeError, match="0-d"):
        tg.cat([tg.tensor(1.0), tg.tensor(2.0)])
    with pytest.raises(InputTypeError, match="min, max or both"):
        tg.ones(2).clip()
    relu = tg.tensor([np.nan, -1.0, 2.0], requires_grad=True).relu()
    assert np.isnan(relu.numpy()[0]) and relu.tolist()[1:] == [0.0, 2.0]  # NaN is not hidden
    with pytest.raises(tg.DataError, match="NaN"):
        F.binary_cross_entropy(tg.tensor([0.5, np.nan]), tg.tensor([1.0, 0.0]))


@pytest.mark.parametrize("dtype, big, small", [(np.float32, 1e30, 1e-20), (np.float64, 1e300, 1e-200)])
def test_division_gradient_does_not_square_the_divisor(dtype, big, small):
    # d(a/b)/db = -a / b**2; b * b overflows (or underflows) where the gradient itself is fine
    for a_value, b_value in [(big, big), (small, small), (1.0, big ** 0.5 * 10)]:
        a = tg.tensor(np.array([a_value], dtype), requires_grad=True)
        b = tg.tensor(np.array([b_value], dtype), requires_grad=True)
        (a / b).sum().backward()
        expected = -(a_value / b_value) / b_value
        assert b.grad.item() == pytest.approx(expected, rel=1e-5, abs=0), (a_value, b_value)
        assert a.grad.item() == pytest.approx(1.0 / b_value, rel=1e-5, abs=0)


def test_var_std_logsumexp_are_torchs_and_gradchecked():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 4, 5))
    x = tg.tensor(data, requires_grad=True)
    assert np.allclose(x.var().item(), data.var(ddof=1))                      # Bessel's by default
    assert np.allclose(x.var(1, False).numpy(), data.var(axis=1))             # unbiased=False
    assert np.allclose(x.std(dim=(0, 2), keepdim=True, correction=2).numpy(),
                       data.std(axis=(0, 2), ddof=2, keepdims=True))
    assert np.allclose(x.logsumexp(-1).numpy(), np.log(np.exp(data).sum(-1)))
    big = tg.tensor(np.array([[1000.0, 1000.0], [-np.inf, -np.inf]]))
    assert big.logsumexp(1).tolist() == [pytest.approx(1000.0 + np.log(2.0)), -np.inf]  # no overflow
    assert np.isnan(tg.tensor([1.0]).var().item())                          # n - 1 = 0, as torch
    for f in (lambda t: t.var(dim=1), lambda t: t.std(dim=(0, 2), unbiased=False),
              lambda t: t.logsumexp(dim=(1, 2), keepdim=True), lambda t: t.softmax(0)):
        assert tg.gradcheck(f, [x])
    with pytest.raises(InputTypeError, match="not both"):
        x.var(unbiased=True, correction=0)


def test_function_forms_call_the_methods():
    x = tg.tensor(np.arange(6.0).reshape(2, 3))
    assert tg.sum(x, dim=1).tolist() == [3.0, 12.0] and tg.mean(x).item() == 2.5
    assert tg.matmul(x, x.transpose()).tolist() == [[5.0, 14.0], [14.0, 50.0]]
    assert tg.clamp(x, max=1.0).tolist() == [[0.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    assert tg.exp(x).numpy() == pytest.approx(np.exp(np.arange(6.0).reshape(2, 3)))
    with pytest.raises(InputTypeError, match="tg.exp: input must be a Tensor"):
        tg.exp(1.0)


def test_save_and_load_state_dicts_as_torch_save_without_pickle(tmp_path):
    def model():
        return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2))
    G = model()
    opt = optim.Adam(G.parameters(), lr=0.01)
    G(tg.randn(5, 3)).sum().backward()
    opt.step()
    tg.save(G.state_dict(), tmp_path / "g.pt")
    tg.save(opt.state_dict(), str(tmp_path / "opt.pt"))
    G2 = model()
    assert not G2.load_state_dict(tg.load(tmp_path / "g.pt", weights_only=True)).missing_keys
    opt2 = optim.Adam(G2.parameters(), lr=0.5)
    opt2.load_state_dict(tg.load(tmp_path / "opt.pt"))
    assert opt2.param_groups[0]["lr"] == 0.01
    x = tg.randn(6, 3)
    G.eval(), G2.eval()
    assert np.array_equal(G(x).numpy(), G2(x).numpy())
    with np.load(tmp_path / "g.pt", allow_pickle=False) as npz:       # plain NumPy reads it
        assert "saved_object/0.weight" in npz.files
    tg.save({"w": tg.ones(2), "step": 3, "names": ["a", "b"]}, tmp_path / "mixed.pt")
    back = tg.load(tmp_path / "mixed.pt", map_location="cpu")
    assert isinstance(back["w"], tg.Tensor) and back["w"].tolist() == [1.0, 1.0]
    assert back["step"] == 3 and back["names"] == ["a", "b"]
    with pytest.raises(InputTypeError, match="path"):     # a file object is fine, as in torch
        tg.save(G.state_dict(), 3)
    with pytest.raises(tg.CheckpointError, match="unsupported type function"):
        tg.save({"f": lambda: 0}, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()
    (tmp_path / "cut.pt").write_bytes((tmp_path / "g.pt").read_bytes()[:200])
    with pytest.raises(tg.CheckpointError):
        tg.load(tmp_path / "cut.pt")


def test_save_keeps_tuples_and_requires_grad_and_refuses_a_reference_cycle(tmp_path):
    w = tg.randn(3, requires_grad=True)
    tg.save({"w": w, "doubled": w * 2, "frozen": tg.ones(2), "shape": (2, (3, 4)), "list": [1, (5,)]},
            tmp_path / "o.pt")
    for location in (None, "cpu"):            # torch.load gives back the same structure
        back = tg.load(tmp_path / "o.pt", map_location=location)
        assert back["w"].requires_grad and back["w"].is_leaf and back["doubled"].requires_grad
        assert not back["frozen"].requires_grad
        assert back["shape"] == (2, (3, 4)) and type(back["shape"][1]) is tuple
        assert back["list"] == [1, (5,)] and type(back["list"]) is list
        assert np.array_equal(back["doubled"].numpy(), 2 * w.detach().numpy())
    cyclic: dict = {"step": 1}
    cyclic["again"] = cyclic
    looped: list = [1]
    looped.append(looped)
    for obj, where in ((cyclic, "again"), ({"l": looped}, "l/1")):
        with pytest.raises(tg.CheckpointError, match=f"{where}' contains itself"):
            tg.save(obj, tmp_path / "cycle.pt")
        assert not (tmp_path / "cycle.pt").exists()
    shared = [1, 2]                             # the same list twice is no cycle
    tg.save({"a": shared, "b": shared}, tmp_path / "twice.pt")
    assert tg.load(tmp_path / "twice.pt") == {"a": [1, 2], "b": [1, 2]}


def test_argmax_argmin_give_whole_number_indices_that_index():
    x = tg.tensor(np.array([[1.0, 7.0, 7.0], [9.0, 0.0, 3.0]]), requires_grad=True)
    assert x.argmax().item() == 3 and x.argmin().item() == 4                 # of the flattened
    assert x.argmax(1).tolist() == [1, 0]                                    # first of a tie
    assert x.argmin(dim=0, keepdim=True).tolist() == [[0, 1, 1]]
    assert x.argmax(1).dtype == tg.int64 and not x.argmax(1).requires_grad
    assert tg.argmax(x, 1).tolist() == [1, 0] and x.max(1).indices.dtype == tg.int64
    rows = tg.tensor(np.arange(2))
    assert x[rows, x.argmax(1)].tolist() == [7.0, 9.0]                       # indexes as ints
    with pytest.raises(ShapeError, match="empty"):
        tg.zeros(0, 2).argmax(0)


def test_the_dcgan_tutorial_lines_run_as_written():
    """Lines of PyTorch's DCGAN tutorial that a port hit (an audit ported it with only the import
    changed): each runs as torch's does."""
    import tensorgan.nn.functional as F_by_torchs_path
    from tensorgan.data import ArrayDataset, DataLoader
    assert F_by_torchs_path is tg.functional and nn.functional is tg.functional
    label = tg.full((4,), 0.9, dtype=tg.float)          # label smoothing
    assert label.dtype == np.float32 and label.tolist() == pytest.approx([0.9] * 4)
    assert tg.full_like(label, 2.0).tolist() == [2.0] * 4 and tg.full(3, 1.0).shape == (3,)
    assert tg.empty(2, 3).shape == (2, 3) and tg.randn_like(tg.zeros(2, 5, dtype=tg.double)).dtype == np.float64
    assert tg.rand_like(label).shape == (4,) and tg.zeros(1, dtype=tg.double).dtype == np.float64
    with pytest.raises(InputTypeError, match="fill_value"):
        tg.full((2,), "x")
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert np.transpose(x, (1, 2, 0)).shape == (3, 4, 2)      # the tutorial's plotting idiom
    assert np.transpose(x).shape == (4, 3, 2) and x.transpose(0, 2).shape == (4, 3, 2)
    assert tg.functional.leaky_relu(-x, 0.2, inplace=True).amax().item() == 0.0
    assert tg.functional.relu(-x, True).amax().item() == 0.0
    assert x.amax().item() == 23.0                        # accepted, not done: a new tensor
    assert isinstance(tg.cuda.is_available(), bool) and tg.cuda.device_count() in (0, 1)
    images = np.zeros((8, 1, 2, 2), np.uint8)

    def order():
        loader = DataLoader(ArrayDataset(images, np.arange(8)), 4, num_workers=2)
        return [labels.tolist() for _, labels in loader]
    tg.manual_seed(999)
    first = order()
    tg.manual_seed(999)                                   # torch.manual_seed fixes the shuffle too
    assert order() == first and sorted(sum(first, [])) == list(range(8))
    assert sum(first, []) != list(range(8))               # and it is shuffled
    tg.manual_seed(5)
    DataLoader(ArrayDataset(images), 4)                   # making a loader draws nothing yet
    after_loader = tg.randn(3).tolist()
    tg.manual_seed(5)
    assert tg.randn(3).tolist() == after_loader


def test_a_map_dataset_with_an_images_attribute_is_read_through_getitem():
    class MNIST64:                                         # a user's dataset, torch style
        def __init__(self):
            self.images = np.arange(4 * 3 * 3, dtype=np.uint8).reshape(4, 3, 3)   # (N, H, W)

        def __len__(self):
            return len(self.images)

        def __getitem__(self, i):
            return self.images[i][None].astype(np.float32) / 255.0, i

    from tensorgan.data import ArrayDataset, DataLoader
    x, y = next(iter(DataLoader(MNIST64(), 4, shuffle=False)))
    assert x.shape == (4, 1, 3, 3) and y.tolist() == [0, 1, 2, 3]
    assert x[1, 0, 0, 0].item() == pytest.approx(9 / 255.0)

    class Indexable(ArrayDataset):                         # a tensorgan dataset with a __getitem__
        def __getitem__(self, i):
            return self.images[i]
    batch, _ = next(iter(DataLoader(Indexable(np.full((4, 1, 2, 2), 255, np.uint8)), 2)))
    assert batch.dtype == np.float32 and batch.max() == 1.0   # still its scaled images
    assert x.to("cpu").shape == (4, 1, 3, 3)            # a Tensor: the tutorial's data[0].to(device)


def test_from_numpy_shares_float_arrays_and_as_tensor_wraps():
    a = np.zeros(3, np.float32)
    t = tg.from_numpy(a)
    a[0] = 5.0
    assert t.tolist() == [5.0, 0.0, 0.0]                     # shared memory, as torch
    b = np.arange(3)
    assert tg.from_numpy(b).dtype == np.int64 and np.shares_memory(tg.from_numpy(b).array, b)
    assert tg.from_numpy(np.arange(3, dtype=np.uint16)).dtype == np.int64   # no uint16: a copy
    assert tg.as_tensor([1.0, 2.0], dtype=tg.double).dtype == np.float64
    with pytest.raises(InputTypeError, match="numpy.ndarray"):
        tg.from_numpy([1.0])


def test_torch_module_paths_threads_and_data_parallel():
    import tensorgan.nn.parallel  # noqa: F401  (torch's tutorial imports it)
    import tensorgan.utils.data
    assert issubclass(tensorgan.utils.data.DataLoader, tg.data.DataLoader)   # with torch's defaults
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
    finally:
        tg.set_num_threads(before)
    with pytest.raises(tg.ConfigError, match="set_num_threads"):
        tg.set_num_threads(0)
    net = nn.DataParallel(nn.Linear(2, 3), device_ids=[0])   # one device: runs the module as is
    assert list(net.state_dict()) == ["module.weight", "module.bias"]
    x = tg.ones(1, 2)
    assert np.array_equal(net(x).numpy(), net.module(x).numpy())


def test_pytorch_dcgan_tutorial_runs_with_only_its_imports_changed(tmp_path):
    """scripts/pytorch_dcgan_tutorial.py is PyTorch's tutorial with `import torch` lines swapped
    for tensorgan's: three iterations train, save and reload the generator."""
    import json
    import subprocess
    import sys
    from pathlib import Path
    script = Path(__file__).resolve().parents[1] / "scripts" / "pytorch_dcgan_tutorial.py"
    imports = [line for line in script.read_text().splitlines() if "tensorgan" in line
               and line.startswith("import")]
    assert imports == ["import tensorgan as torch", "import tensorgan.nn as nn",
                       "import tensorgan.nn.parallel", "import tensorgan.optim as optim",
                       "import tensorgan.utils.data", "import tensorgan.vision.datasets as dset",
                       "import tensorgan.vision.transforms as transforms",
                       "import tensorgan.vision.utils as vutils"]
    done = subprocess.run([sys.executable, str(script), str(tmp_path), "3"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reloaded G max diff: 0.0" in done.stdout
    assert "real batch (32, 1, 64, 64) -1.0 1.0" in done.stdout and "real grid (266, 530, 3)" in done.stdout
    from PIL import Image
    assert Image.open(tmp_path / "fake_grid.png").size == (530, 530)
    losses = json.loads((tmp_path / "losses.json").read_text())
    assert len(losses["D"]) == 3 and all(np.isfinite(losses["D"] + losses["G"]))


def test_review_fixes_for_indexing_argmax_full_and_load(tmp_path):
    x = tg.tensor(np.arange(120.0).reshape(2, 3, 4, 5))
    assert x[0, True, 1].shape == (1, 4, 5) and x[0, False, 1].shape == (0, 4, 5)  # no dim covered
    assert x[0, True, 1][0, 2, 3].item() == 20 + 10 + 3
    y = tg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert y[tg.tensor(1), :, [0, 1]].shape == (3, 2)            # a 0-d index tensor is an int
    y[tg.tensor(1)].sum().backward()
    assert y.grad.numpy()[1].sum() == 12 and y.grad.numpy()[0].sum() == 0
    assert tg.tensor(2.0).argmax(0).item() == 0
    with pytest.raises(ShapeError, match="0-d"):
        tg.tensor(2.0).argmax(5)
    assert tg.full((2,), tg.tensor(3.0)).tolist() == [3.0, 3.0]
    z = tg.tensor(np.ones(2), requires_grad=True)
    w = z * 2.0
    w.register_hook(lambda g: g.float())
    with pytest.raises(tg.DTypeError, match="hook returned"):
        w.sum().backward()
    tg.checkpoint.save_checkpoint(tmp_path / "c.npz", {"saved_object": {"a": 1}, "step": 3})
    assert tg.load(tmp_path / "c.npz")["step"] == 3          # not tg.save's: the whole tree
    assert tg.from_numpy(np.zeros(2, np.float32)).device == tg.device("cpu")
