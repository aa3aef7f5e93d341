"""tensorgan.optim: updates against the formulas written out by hand, state round trips, validation."""
import copy
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import CheckpointError, ConfigError
from tensorgan.optim import SGD, Adam

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.25, 0.0, 1.5]), np.array([1.0, 1.0, -3.0])]


def param(values=(1.0, -2.0, 0.5)):
    return nn.Parameter(np.array(values, dtype=np.float64))


def run(opt, p, grads):
    out = []
    for g in grads:
        p.grad = tg.tensor(g, dtype="float64")
        opt.step()
        out.append(p.numpy())
    return out


def test_adam_matches_the_formulas():
    p0 = np.array([1.0, -2.0, 0.5])
    p = param(p0)
    lr, b1, b2, eps, wd = 0.1, 0.8, 0.9, 1e-3, 0.01
    got = run(Adam([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd), p, GRADS)
    w, m, v = p0.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(got[t - 1], w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(7,), (33, 5, 2)])
def test_adam_fused_cpu_update_is_bit_identical_to_the_ufunc_sequence(monkeypatch, dtype, shape):
    from tensorgan import optim
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(shape).astype(dtype)
    # On the CPU whatever the default device (on a GPU machine it is cuda, and the state CuPy).
    fused, ufuncs = nn.Parameter(p0.copy(), device="cpu"), nn.Parameter(p0.copy(), device="cpu")
    opt_f = Adam([fused], lr=2e-4, betas=(0.5, 0.999), weight_decay=0.01)
    opt_u = Adam([ufuncs], lr=2e-4, betas=(0.5, 0.999), weight_decay=0.01)
    applies = optim._fused_adam_applies
    for _ in range(4):
        g = rng.standard_normal(shape).astype(dtype)
        fused.grad = tg.tensor(g.copy(), dtype=dtype, device="cpu")
        ufuncs.grad = tg.tensor(g.copy(), dtype=dtype, device="cpu")
        opt_f.step()
        monkeypatch.setattr(optim, "_fused_adam_applies", lambda *a: False)
        opt_u.step()
        monkeypatch.setattr(optim, "_fused_adam_applies", applies)
    assert applies(fused.array, fused.grad.array, opt_f.state[0]["exp_avg"].array,
                   opt_f.state[0]["exp_avg_sq"].array)
    np.testing.assert_array_equal(fused.numpy(), ufuncs.numpy())
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(opt_f.state[0][key], opt_u.state[0][key])


def test_adam_first_step_moves_each_weight_by_about_lr():
    p = param()
    run(Adam([p], lr=0.01), p, [GRADS[0]])
    np.testing.assert_allclose(p.numpy(), [1.0 - 0.01, -2.0 + 0.01, 0.5 - 0.01], rtol=1e-6)


@pytest.mark.parametrize("momentum, dampening, nesterov, wd", [(0.0, 0.0, False, 0.0), (0.9, 0.0, False, 0.1),
                                                                (0.9, 0.5, False, 0.0), (0.9, 0.0, True, 0.0)])
def test_sgd_matches_the_formulas(momentum, dampening, nesterov, wd):
    p0 = np.array([1.0, -2.0, 0.5])
    p = param(p0)
    lr = 0.05
    got = run(SGD([p], lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=wd),
              p, GRADS)
    w, buf = p0.copy(), None
    for i, g in enumerate(GRADS):
        g = g + wd * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
        np.testing.assert_allclose(got[i], w, rtol=1e-12)


def test_parameters_without_grad_are_left_alone_and_zero_grad_clears():
    a, b = param(), param()
    opt = Adam([a, b], lr=0.1)
    a.grad = tg.tensor(GRADS[0], dtype="float64")
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [1.0, -2.0, 0.5])
    assert opt.state[1] is None
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("cls, kwargs", [(Adam, dict(lr=0.1, betas=(0.5, 0.99), weight_decay=0.01)),
                                         (SGD, dict(lr=0.1, momentum=0.9))])
def test_state_dict_round_trip_continues_identically(cls, kwargs):
    p1 = param()
    o1 = cls([p1], **kwargs)
    run(o1, p1, GRADS[:2])
    sd = o1.state_dict()
    p2 = param(p1.numpy())
    o2 = cls([p2], lr=123.0)  # hyperparameters come back from the state too
    o2.load_state_dict(copy.deepcopy(sd))     # (torch's loading shares same-dtype Tensors)
    a, b = run(o1, p1, GRADS[2:]), run(o2, p2, GRADS[2:])
    np.testing.assert_array_equal(a, b)
    assert o2.param_groups[0]["lr"] == 0.1
    # torch's layout: CPU Tensors, the step a 0-d float32 one (SGD keeps none, as torch's)
    entry = sd["state"][0]
    assert all(isinstance(v, tg.Tensor) and v.device.type == "cpu" for v in entry.values())
    assert "step" not in entry if cls is SGD else entry["step"].dtype == np.float32


def test_load_state_dict_rejects_mismatches():
    p = param()
    opt = Adam([p])
    run(opt, p, GRADS[:1])
    sd = opt.state_dict()
    with pytest.raises(CheckpointError, match="is for Adam"):
        SGD([param()]).load_state_dict(sd)
    with pytest.raises(CheckpointError, match="2 in 1"):
        Adam([param(), param()]).load_state_dict(sd)
    with pytest.raises(CheckpointError, match=r"exp_avg.*shape \(3,\).*\(2,\)"):
        Adam([param((1.0, 2.0))]).load_state_dict(sd)


@pytest.mark.parametrize("make, pattern", [
    (lambda p: Adam([p], lr=-1e-3), "lr must be >= 0"),
    (lambda p: Adam([p], betas=(1.0, 0.9)), r"betas\[0\] must be < 1"),
    (lambda p: Adam([p], betas=(0.5, -0.1)), r"betas\[1\] must be >= 0"),
    (lambda p: Adam([p], eps=-1e-8), "eps must be >= 0"),
    (lambda p: Adam([p], lr=float("nan")), "finite"),
    (lambda p: SGD([p], lr=0.1, momentum=-0.5), "momentum must be >= 0"),
    (lambda p: SGD([p], lr=0.1, nesterov=True), "nesterov"),
    (lambda p: SGD([], lr=0.1), "empty"),
])
def test_invalid_hyperparameters_are_config_errors(make, pattern):
    with pytest.raises(ConfigError, match=pattern):
        make(param())


def test_param_groups_take_their_own_lr():
    a, b = param(), param()
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = b.grad = tg.tensor(np.ones(3), dtype="float64")
    opt.step()
    np.testing.assert_allclose(a.numpy(), np.array([1.0, -2.0, 0.5]) - 0.1)
    np.testing.assert_allclose(b.numpy(), np.array([1.0, -2.0, 0.5]) - 1.0)
    with pytest.raises(ConfigError, match="more than one group"):
        SGD([{"params": [a]}, {"params": [a]}], lr=0.1)


def test_adam_trains_a_linear_regression():
    gen = tg.Generator(0)
    x = tg.randn(64, 3, generator=gen)
    y = tg.tensor(x.numpy() @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32) + 0.3)
    lin = nn.Linear(3, 1, generator=gen)
    opt = Adam(lin.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        loss = ((lin(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3
    assert math.isclose(float(lin.bias.numpy()[0]), 0.3, abs_tol=0.02)


def test_deepcopy_of_an_optimizer_copies_its_state_and_parameters():
    import copy
    p = param()
    opt = Adam([p], lr=0.1)
    run(opt, p, GRADS[:1])
    twin = copy.deepcopy(opt)
    q = twin.param_groups[0]["params"][0]
    assert q is not p and twin.state[q]["exp_avg"] is not opt.state[p]["exp_avg"]
    np.testing.assert_array_equal(twin.state[q]["exp_avg"], opt.state[p]["exp_avg"])
    a, b = run(opt, p, GRADS[1:]), run(twin, q, GRADS[1:])   # both continue identically
    np.testing.assert_array_equal(a, b)


def rmsprop_reference(p, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False):
    """torch.optim.RMSprop's documented update, written out in NumPy."""
    p = np.array(p, dtype=np.float64)
    v, g_avg, buf, out = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for g in grads:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg ** 2
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            p = p - lr * buf
        else:
            p = p - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(p)
    return out


@pytest.mark.parametrize("kwargs", [dict(), dict(momentum=0.9), dict(centered=True, weight_decay=0.1),
                                    dict(alpha=0.5, eps=1e-3, momentum=0.5, centered=True)])
def test_rmsprop_matches_torchs_documented_update(kwargs):
    p = param()
    got = run(tg.optim.RMSprop([p], lr=0.05, **kwargs), p, GRADS)
    want = rmsprop_reference([1.0, -2.0, 0.5], GRADS, lr=0.05, **kwargs)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_rmsprop_first_step_without_momentum_is_lr_over_sqrt_one_minus_alpha():
    p = param((0.0, 0.0, 0.0))
    run(tg.optim.RMSprop([p], lr=0.01, alpha=0.99, eps=0.0), p, GRADS[:1])
    # v = (1 - alpha) g^2 = 0.01 g^2, so the step is -lr * g / (0.1 |g|) = -0.1 sign(g)
    np.testing.assert_allclose(p.numpy(), -0.1 * np.sign(GRADS[0]), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(momentum=0.9, centered=True), dict()])
def test_rmsprop_state_dict_round_trip_continues_identically(kwargs):
    p1 = param()
    o1 = tg.optim.RMSprop([p1], lr=0.05, **kwargs)
    run(o1, p1, GRADS[:2])
    sd = o1.state_dict()
    assert set(sd["state"][0]) == {"step", "square_avg"} | (
        {"momentum_buffer", "grad_avg"} if kwargs else set())
    p2 = param(p1.numpy())
    o2 = tg.optim.RMSprop([p2], lr=1.0)
    o2.load_state_dict(copy.deepcopy(sd))     # (torch's loading shares same-dtype Tensors)
    np.testing.assert_array_equal(run(o1, p1, GRADS[2:]), run(o2, p2, GRADS[2:]))
    with pytest.raises(CheckpointError, match="square_avg"):
        tg.optim.RMSprop([param()]).load_state_dict(
            {**sd, "state": [{k: v for k, v in sd["state"][0].items() if k != "square_avg"}]})


@pytest.mark.parametrize("kw, pattern", [(dict(alpha=1.5), "alpha"), (dict(eps=-1.0), "eps"),
                                         (dict(momentum=-0.1), "momentum"), (dict(centered=1), "centered")])
def test_rmsprop_invalid_hyperparameters(kw, pattern):
    with pytest.raises(ConfigError, match=pattern):
        tg.optim.RMSprop([param()], **kw)
