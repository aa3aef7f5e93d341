"""float16 tensors, as torch's CPU half: stored in half precision, each op computed in float32
(sums and means with a float32 accumulator, matmul / linear / conv / batch norm in float32) and
the result rounded to float16; gradients come back in float16.  bfloat16 is refused (NumPy has
no such type).  Expected values: the same computation in float32 NumPy, rounded once."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.functional as F
from tensorgan.errors import DTypeError

RNG = np.random.default_rng(3)
A = RNG.standard_normal((64, 32)).astype(np.float16)
B = RNG.standard_normal((32, 8)).astype(np.float16)


def half(a, requires_grad=True):
    return tg.tensor(a, requires_grad=requires_grad)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def test_names_factories_and_conversions():
    assert tg.float16 == tg.half == np.float16
    assert tg.zeros(2, dtype=tg.float16).dtype == tg.float16
    assert tg.tensor([1.5], dtype=tg.half).dtype == tg.float16
    assert tg.tensor(np.ones(2, np.float16)).dtype == tg.float16       # an array keeps its dtype
    for t in (tg.rand(3, dtype=tg.float16), tg.randn(3, dtype=tg.float16), tg.ones(2).half(),
              tg.ones(2).to(tg.float16), tg.ones(2).to("float16"), tg.full((2,), 0.1, dtype=tg.float16)):
        assert t.dtype == tg.float16
    x = tg.ones(2, requires_grad=True)
    x.half().sum().backward()                                       # the cast is differentiable
    assert x.grad.dtype == tg.float32 and x.grad.tolist() == [1.0, 1.0]


def test_module_half_converts_parameters_and_buffers():
    m = tg.nn.Sequential(tg.nn.Conv2d(3, 4, 3, padding=1), tg.nn.BatchNorm2d(4), tg.nn.LeakyReLU(0.2)).half()
    assert all(p.dtype == tg.float16 for p in m.parameters())
    assert [b.dtype for b in m.buffers()][:2] == [tg.float16, tg.float16]
    x = tg.tensor(RNG.standard_normal((2, 3, 5, 5)).astype(np.float16), requires_grad=True)
    y = m(x)
    (y.float() ** 2).sum().backward()
    assert y.dtype == x.grad.dtype == tg.float16
    assert all(p.grad.dtype == tg.float16 for p in m.parameters())
    assert m[1].running_mean.dtype == tg.float16 and m[1].running_mean.abs().sum().item() > 0


def test_elementwise_ops_round_each_result_to_float16():
    x = half(A)
    y = (x * 0.5).exp() - x.sin()
    want = (np.exp(f32(A * np.float16(0.5))).astype(np.float16).astype(np.float32)
            - np.sin(f32(A)).astype(np.float16)).astype(np.float16)
    assert y.dtype == tg.float16
    np.testing.assert_array_equal(y.numpy(), want)
    y.sum().backward()
    assert x.grad.dtype == tg.float16


def test_sum_and_mean_accumulate_in_float32():
    big = np.full(4096, 1.0, np.float16)         # a float16 running sum would stop at 2048
    assert tg.tensor(big).sum().item() == 4096.0
    assert tg.tensor(big).sum().dtype == tg.float16
    x = half(A)
    np.testing.assert_array_equal(x.mean(0).numpy(), f32(A).mean(0).astype(np.float16))
    np.testing.assert_array_equal(x.sum(1).numpy(), f32(A).sum(1).astype(np.float16))


def test_matmul_linear_conv_compute_in_float32_and_cast():
    a, b = half(A), half(B)
    y = a @ b
    assert y.dtype == tg.float16
    np.testing.assert_array_equal(y.numpy(), (f32(A) @ f32(B)).astype(np.float16))
    y.sum().backward()
    assert a.grad.dtype == b.grad.dtype == tg.float16
    np.testing.assert_array_equal(a.grad.numpy(), np.broadcast_to(f32(B).sum(1), A.shape).astype(np.float16))
    lin = F.linear(half(A, False), half(B.T, False))
    np.testing.assert_array_equal(lin.numpy(), (f32(A) @ f32(B)).astype(np.float16))
    x = RNG.standard_normal((1, 2, 5, 5)).astype(np.float16)
    w = RNG.standard_normal((3, 2, 3, 3)).astype(np.float16)
    out = F.conv2d(half(x, False), half(w, False))
    want = np.zeros((1, 3, 3, 3), np.float32)
    for i in range(3):
        for j in range(3):
            want[0, :, i, j] = np.einsum("chw,ochw->o", f32(x[0, :, i:i + 3, j:j + 3]), f32(w))
    assert out.dtype == tg.float16
    np.testing.assert_allclose(f32(out.numpy()), want.astype(np.float16), rtol=1e-3, atol=1e-3)


def test_float16_with_float32_follows_torch_promotion():
    x16, x32 = half(A[0]), tg.tensor(f32(A[0]) * 2, requires_grad=True)
    y = x16 + x32
    assert y.dtype == tg.float32
    y.sum().backward()
    assert x16.grad.dtype == tg.float16 and x32.grad.dtype == tg.float32
    assert (x16 * tg.tensor(2.0)).dtype == tg.float16           # a 0-d float32 does not widen
    assert (x16 * 2.5).dtype == tg.float16
    assert (tg.tensor([1, 2]) + tg.tensor(0.5, dtype=tg.float16)).dtype == tg.float16
    assert tg.promote_types(tg.float16, tg.int64) == tg.float16
    with pytest.raises(DTypeError, match="float16"):
        half(A, False) @ tg.tensor(f32(B))                      # torch refuses mixed matmul too


def test_float16_gradients_are_the_float32_formulas_rounded():
    # (gradcheck's finite differences cannot see through float16 rounding: the exact formulas)
    x = half(A)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (2 * f32(A)).astype(np.float16))
    s = half(A[:4])
    s.softmax(1).pow(2).sum().backward()
    p = np.exp(f32(A[:4]) - f32(A[:4]).max(1, keepdims=True))
    p = (p / p.sum(1, keepdims=True)).astype(np.float16).astype(np.float32)
    want = p * (2 * p - (2 * p * p).sum(1, keepdims=True))
    np.testing.assert_allclose(f32(s.grad.numpy()), want, atol=2e-3)


def test_bfloat16_is_refused_naming_why():
    for call in (lambda: tg.ones(2).bfloat16(), lambda: tg.zeros(2, dtype=tg.bfloat16),
                 lambda: tg.ones(2).to("bfloat16"), lambda: tg.tensor([1.0], dtype="bfloat16")):
        with pytest.raises(DTypeError, match="NumPy has no bfloat16"):
            call()
    with pytest.raises(DTypeError, match="only float32 and float64"):
        tg.set_default_dtype(tg.float16)
