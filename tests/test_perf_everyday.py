"""Correctness of the ops rewritten for speed in the everyday-training sweep (MNIST CNN, word
language model LSTM / Transformer, ResNet, seq2seq GRU): the tiling max_pool2d (running maximum
over strided taps), relu (maximum), sigmoid (torch's 1 / (1 + exp(-x))), softmax / log_softmax
with in-place temporaries, dropout's mask scaling, in-place gradient sums in the backward walk,
and the engine's small-GEMM dispatch.  Expected values from NumPy loops and first principles;
no timing asserts."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import backend
from tensorgan import functional as F


def t64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def loop_max_pool(x, kh, kw):
    """(values, gradient routing) of non-overlapping kh x kw windows: each window's maximum (a
    NaN wins) and the flat position of its first maximum."""
    n, c, h, w = x.shape
    ho, wo = h // kh, w // kw
    out = np.empty((n, c, ho, wo))
    pos = np.empty((n, c, ho, wo, 2), dtype=int)
    for a in range(n):
        for b in range(c):
            for i in range(ho):
                for j in range(wo):
                    win = x[a, b, i * kh:(i + 1) * kh, j * kw:(j + 1) * kw].ravel()
                    k = int(np.argmax(np.isnan(win))) if np.isnan(win).any() else int(np.argmax(win))
                    out[a, b, i, j] = win[k]
                    pos[a, b, i, j] = (i * kh + k // kw, j * kw + k % kw)
    return out, pos


@pytest.mark.parametrize("shape,k", [((2, 3, 8, 8), (2, 2)), ((2, 2, 9, 7), (2, 2)),
                                     ((1, 2, 9, 9), (3, 3)), ((2, 2, 6, 7), (2, 3))])
@pytest.mark.parametrize("ties", [False, True])
def test_tiling_max_pool_values_and_first_max_gradient(shape, k, ties):
    rng = np.random.default_rng(sum(shape) + ties)
    a = rng.standard_normal(shape)
    if ties:
        a = np.round(a)             # many equal maxima: the first one (row-major) gets it all
    a[0, 0, 0, 0] = np.nan          # a NaN is the window's maximum and takes its gradient
    want, pos = loop_max_pool(a, *k)
    x = t64(a)
    y = F.max_pool2d(x, k)
    np.testing.assert_array_equal(y.numpy(), want)
    g = rng.standard_normal(want.shape)
    y.backward(tg.tensor(g))
    expect = np.zeros(shape)
    for idx in np.ndindex(want.shape):
        expect[idx[0], idx[1], pos[idx][0], pos[idx][1]] += g[idx]
    np.testing.assert_array_equal(x.grad.numpy(), expect)   # rows / columns left over: zero
    # graph mode (double backward) routes the same way
    x2, gg = t64(a), t64(g)
    (gx,) = tg.autograd.grad(F.max_pool2d(x2, k), x2, gg, create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), expect)
    (ggx,) = tg.autograd.grad((gx * gx).sum(), gg)
    np.testing.assert_allclose(ggx.numpy(), 2 * g)


def test_tiling_max_pool_integers_and_input_untouched():
    a = np.arange(2 * 16).reshape(1, 2, 4, 4)[..., ::-1].copy()
    y = F.max_pool2d(tg.tensor(a), 2)
    assert y.dtype == tg.int64
    np.testing.assert_array_equal(y.numpy(), loop_max_pool(a.astype(float), 2, 2)[0])
    x = t64(a)
    out = F.max_pool2d(x, 2)
    out.mul_(0)                     # the output is a new array, never a view of the input
    np.testing.assert_array_equal(x.detach().numpy(), a)


def test_relu_values_and_gradient():
    a = np.array([-2.0, -0.0, 0.0, 1e-300, 3.0, np.nan, -np.inf, np.inf])
    x = t64(a)
    y = F.relu(x)
    np.testing.assert_array_equal(y.numpy(), [0, 0, 0, 1e-300, 3, np.nan, 0, np.inf])
    assert np.signbit(y.numpy()[1])             # -0 stays -0, as torch's (clamp_min)
    y.backward(tg.tensor(np.full(a.shape, 2.0)))
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, 2, 2, 2, 0, 2])  # NaN passes, as torch
    i = tg.tensor(np.array([-3, 0, 5]))
    assert F.relu(i).dtype == tg.int64 and F.relu(i).tolist() == [0, 0, 5]


def test_sigmoid_is_torch_formula_and_flushes_where_exp_overflows():
    # 1 / (1 + exp(-x)): below about -88 (float32) exp(-x) is inf and sigmoid 0, as torch's CPU
    # kernel; the old exp(-|x|) form returned the denormal 3.8e-44 at -100
    x = tg.tensor(np.array([-800.0, -100.0, -20.0, 0.0, 3.0, 100.0, 800.0], dtype=np.float32))
    y = tg.sigmoid(x).numpy()
    assert y[0] == 0 and y[1] == 0 and y[-1] == 1 and y[-2] == 1 and y[3] == 0.5
    with np.errstate(over="ignore"):
        want = (1 / (1 + np.exp(-x.numpy().astype(np.float64)))).astype(np.float32)
    np.testing.assert_allclose(y[2:5], want[2:5], rtol=2e-7)
    assert tg.sigmoid(tg.tensor(np.float64(-710.0))).item() == 0.0
    assert tg.sigmoid(tg.tensor(np.float64(-700.0))).item() == pytest.approx(np.exp(-700.0), rel=1e-13)
    z = t64([-3.0, 0.5, 40.0])
    s = tg.sigmoid(z)
    s.sum().backward()
    v = 1 / (1 + np.exp(-np.array([-3.0, 0.5, 40.0])))
    np.testing.assert_allclose(z.grad.numpy(), v * (1 - v), rtol=1e-14)
    assert tg.sigmoid(tg.tensor(0.0)).item() == 0.5            # 0-d stays a tensor


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_against_numpy(dim):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5, 6)) * 3
    a[1, 2, :] = -np.inf if dim == -1 else a[1, 2, :]          # a row all -inf: NaN, as torch
    with np.errstate(invalid="ignore"):
        e = np.exp(a - a.max(axis=dim, keepdims=True))
    sm = e / e.sum(axis=dim, keepdims=True)
    g = rng.standard_normal(a.shape)
    x = t64(a)
    y = F.softmax(x, dim)
    np.testing.assert_allclose(y.numpy(), sm, rtol=1e-13, equal_nan=True)
    y.backward(tg.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), sm * (g - (g * sm).sum(axis=dim, keepdims=True)),
                               rtol=1e-12, atol=1e-14, equal_nan=True)
    x = t64(a)
    y = F.log_softmax(x, dim)
    np.testing.assert_allclose(y.numpy(), np.log(sm), rtol=1e-12, equal_nan=True)
    y.backward(tg.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g - sm * g.sum(axis=dim, keepdims=True),
                               rtol=1e-12, atol=1e-14, equal_nan=True)
    x = t64(a)          # a broadcast (read-only) incoming gradient is never written
    F.log_softmax(x, dim).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 - sm * a.shape[dim], rtol=1e-12, atol=1e-14,
                               equal_nan=True)


def test_dropout_scales_kept_elements_as_torch():
    tg.manual_seed(0)
    a = np.random.default_rng(0).standard_normal(10000).astype(np.float32)
    y = F.dropout(tg.tensor(a), 0.3, training=True).numpy()
    kept = y != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_array_equal(y[kept], a[kept] * (np.float32(1) / np.float32(0.7)))  # torch's x * (m / (1 - p))


def test_gradient_sums_in_place_are_right_and_leave_shared_arrays_alone():
    w = t64([1.0, 2.0, 3.0])
    seen = []
    u = w * 1.0
    u.register_hook(lambda g: seen.append(g.numpy().copy()) or None)
    v = u + u                        # Add hands the same gradient array to both sides
    total = (v * 2.0).sum() + (u * 3.0).sum() + (u * u).sum() + u.sum()
    total.backward()
    want = 4.0 + 3.0 + 2 * np.array([1.0, 2.0, 3.0]) + 1.0  # d/du of every use, summed
    np.testing.assert_allclose(seen[0], want)
    np.testing.assert_allclose(w.grad.numpy(), want)
    # a leaf used many times, as a recurrent weight over the steps
    h = t64(np.ones((2, 3)))
    W = t64(np.eye(3) * 0.5)
    for _ in range(6):
        h = h @ W
    h.sum().backward()
    expect = sum(np.ones((3, 2)) @ (np.ones((2, 3)) * 0.5 ** k) * 0.5 ** (5 - k) / 1.0 for k in range(6))
    np.testing.assert_allclose(W.grad.numpy(), expect, rtol=1e-14)


def test_small_linear_products_stay_on_the_calling_thread(monkeypatch):
    dev = backend.get_device("cpu")
    calls = []
    real = dev.kernels.gemm

    def spy(a, b):
        calls.append(a.shape[0] * a.shape[1] * b.shape[1])
        return real(a, b)

    monkeypatch.setattr(dev.kernels, "gemm", spy)
    rng = np.random.default_rng(0)
    small_a = rng.standard_normal((20, 200)).astype(np.float32)    # an LSTM step: 3.2M MACs
    small_b = rng.standard_normal((200, 800)).astype(np.float32)
    np.testing.assert_allclose(dev.matmul(small_a, small_b), small_a @ small_b, rtol=1e-5, atol=1e-4)
    assert calls == []
    big_a = rng.standard_normal((64, 100)).astype(np.float32)      # the GAN generator's Linear
    big_b = rng.standard_normal((100, 12544)).astype(np.float32)
    np.testing.assert_allclose(dev.matmul(big_a, big_b), big_a @ big_b, rtol=1e-5, atol=1e-4)
    assert calls == [64 * 100 * 12544] and calls[0] >= backend.SPLIT_MIN_MACS


def _np_sig(v):
    return 1 / (1 + np.exp(-v))


def _np_gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    k = h.shape[-1]
    r, z = _np_sig(gi[:, :k] + gh[:, :k]), _np_sig(gi[:, k:2 * k] + gh[:, k:2 * k])
    n = np.tanh(gi[:, 2 * k:] + r * gh[:, 2 * k:])
    return (1 - z) * n + z * h


def _np_lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    k = h.shape[-1]
    i, f, g, o = _np_sig(a[:, :k]), _np_sig(a[:, k:2 * k]), np.tanh(a[:, 2 * k:3 * k]), _np_sig(a[:, 3 * k:])
    c = f * c + i * g
    return o * np.tanh(c), c


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_fused_recurrent_cells_match_the_gate_equations(kind):
    """The fused GRU / LSTM step (one op after the two matmuls) against torch's documented
    equations in NumPy, over 4 steps; gradients against central differences of that NumPy loop."""
    rng = np.random.default_rng(7)
    T_, N, I, H = 4, 3, 5, 4
    m = getattr(tg.nn, kind)(I, H).double()
    P = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
    x = rng.standard_normal((T_, N, I))
    wout = rng.standard_normal((T_, N, H))

    def np_loss(xv, params):
        h, c, total = np.zeros((N, H)), np.zeros((N, H)), 0.0
        for t in range(T_):
            args = (params["weight_ih_l0"], params["weight_hh_l0"], params["bias_ih_l0"], params["bias_hh_l0"])
            if kind == "GRU":
                h = _np_gru_step(xv[t], h, *args)
            else:
                h, c = _np_lstm_step(xv[t], h, c, *args)
            total += (h * wout[t]).sum()
        return total + (h ** 2).sum() + (c ** 2).sum() * (kind == "LSTM")

    xt = t64(x)
    out, hid = m(xt)
    loss = (out * tg.tensor(wout)).sum()
    if kind == "GRU":
        loss = loss + (hid ** 2).sum()
    else:
        loss = loss + (hid[0] ** 2).sum() + (hid[1] ** 2).sum()
    assert loss.item() == pytest.approx(np_loss(x, P), rel=1e-13)
    loss.backward()
    eps = 1e-6
    for idx in [(0, 0, 0), (2, 1, 3), (3, 2, 4)]:
        d = np.zeros_like(x)
        d[idx] = eps
        num = (np_loss(x + d, P) - np_loss(x - d, P)) / (2 * eps)
        assert xt.grad.numpy()[idx] == pytest.approx(num, rel=1e-6, abs=1e-8)
    for name in ("weight_hh_l0", "bias_ih_l0"):
        grad = dict(m.named_parameters())[name].grad.numpy()
        for idx in [(0,) * P[name].ndim, tuple(s - 1 for s in P[name].shape)]:
            Q = {k: v.copy() for k, v in P.items()}
            Q[name][idx] += eps
            up = np_loss(x, Q)
            Q[name][idx] -= 2 * eps
            num = (up - np_loss(x, Q)) / (2 * eps)
            assert grad[idx] == pytest.approx(num, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_fused_recurrent_cells_second_derivatives(kind):
    m = getattr(tg.nn, kind)(3, 2).double()
    x = t64(np.random.default_rng(1).standard_normal((3, 2, 3)))
    assert tg.gradcheck(lambda v: m(v)[0], (x,))
    assert tg.gradgradcheck(lambda v: m(v)[0], (x,))
