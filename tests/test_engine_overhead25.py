"""The per-op fast path of Function.apply: NumPy's floating-point warnings are off inside ops
(through NumPy's error-state context variable, set to a state made once) and untouched outside;
binary ops check broadcasting only once NumPy refused the shapes, and still name them."""
import importlib.util
import sys
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ShapeError

_tensor_module = sys.modules["tensorgan.tensor"]


def _ops_giving_inf_and_nan():
    x = tg.tensor([0.0, 1.0, -1.0])
    return [(x / 0).tolist(), tg.log(x).tolist(), tg.sqrt(x).tolist(), (x * 1e38 * 1e38).tolist()]


def _assert_quiet_inside_and_numpy_unchanged_outside():
    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # any RuntimeWarning from an op would raise
        div, log, sqrt, big = _ops_giving_inf_and_nan()
    assert np.isnan(div[0]) and div[1] == np.inf and div[2] == -np.inf
    assert log[0] == -np.inf and np.isnan(log[2])
    assert np.isnan(sqrt[2]) and big[1] == np.inf
    assert np.geterr() == before
    with pytest.warns(RuntimeWarning):          # the user's own NumPy code still warns
        with np.errstate(divide="warn"):
            np.log(np.zeros(1))


def test_ops_are_quiet_and_numpy_state_is_restored():
    _assert_quiet_inside_and_numpy_unchanged_outside()


def test_fallback_through_np_errstate(monkeypatch):
    monkeypatch.setattr(_tensor_module, "_FP_STATE", _tensor_module._ErrstateVar())
    _assert_quiet_inside_and_numpy_unchanged_outside()


def test_error_inside_an_op_restores_numpy_state():
    before = np.geterr()
    with pytest.raises(ShapeError):
        tg.ones(2, 3) + tg.ones(4)
    assert np.geterr() == before


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"), (lambda a, b: a ** b, "pow"), (lambda a, b: tg.hypot(a, b), "hypot"),
    (lambda a, b: tg.atan2(a, b), "atan2"),
])
def test_shapes_that_do_not_broadcast_are_named(op, name):
    with pytest.raises(ShapeError, match=rf"{name}: shapes \(2, 3\) and \(4,\) do not broadcast"):
        op(tg.ones(2, 3, requires_grad=True), tg.ones(4))


def test_number_minus_tensor_that_does_not_broadcast():
    with pytest.raises(ShapeError, match="sub: shapes"):
        sys.modules["tensorgan.ops"].Rsub.apply(tg.ones(2, 3), tg.ones(4))


def test_broadcasting_results_and_gradients_unchanged():
    a = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = tg.tensor([1.0, 2.0, 4.0], requires_grad=True)
    ((a * b + a / b - b) ** 2).sum().backward()
    an, bn = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 4.0])
    inner = an * bn + an / bn - bn
    np.testing.assert_allclose(a.grad.numpy(), 2 * inner * (bn + 1 / bn), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), (2 * inner * (an - an / bn ** 2 - 1)).sum(0), rtol=1e-6)


class _CountingFinder:
    """A sys.meta_path finder that counts the searches for ``cupy`` (and finds nothing)."""
    def __init__(self):
        self.searches = 0

    def find_spec(self, name, path=None, target=None):
        if name == "cupy":
            self.searches += 1
        return None


def test_a_missing_cupy_is_searched_for_once(monkeypatch):
    backend = sys.modules["tensorgan.backend"]
    if "cupy" in sys.modules or importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here")
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)    # (the suite may run the simulator)
    finder = _CountingFinder()
    monkeypatch.setattr(sys, "meta_path", [finder] + sys.meta_path)
    monkeypatch.setattr(backend, "_CUPY_MISSING", [])
    for _ in range(3):
        assert backend.cuda_status()[0] is False
        tg.tensor([1.0]), tg.ones(2)          # factories without device= ask cuda_status
    assert finder.searches == 1


def test_a_cupy_put_into_sys_modules_is_found_after_a_failed_import(monkeypatch):
    backend = sys.modules["tensorgan.backend"]

    class FakeCupy:
        __version__ = "0.0-test"

        @staticmethod
        def is_available():
            return True

    monkeypatch.setattr(backend, "_CUPY_MISSING", [True])
    monkeypatch.setitem(sys.modules, "cupy", FakeCupy)
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)
    assert backend.cuda_status() == (True, "CuPy 0.0-test on CUDA device 0")


@pytest.mark.parametrize("dtype", [tg.float16, tg.float32, tg.float64])
@pytest.mark.parametrize("bounds", [(0, 1), (-1, 0), (0, None), (None, 0)])
def test_clamp_keeps_signed_zeros_and_nan_as_torch(dtype, bounds):
    """torch's clamp is std::min(std::max(x, min), max): x itself on a tie (-0.0 stays -0.0)."""
    values = [-0.0, 0.0, float("nan"), -2.0, 2.0, 0.5] * 6        # (long enough for SIMD loops)
    low, high = bounds
    expected = np.array(values, dtype=np.float64)
    if low is not None:
        expected = np.where(expected < low, low, expected)
    if high is not None:
        expected = np.where(expected > high, high, expected)
    for result in (tg.tensor(values, dtype=dtype).clamp(low, high),
                   tg.tensor(values, dtype=dtype).clamp_(low, high)):
        got = result.numpy().astype(np.float64)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (-1.0, None), (None, 1.0)])
def test_clamp_gradient_passes_inside_the_bounds_only(bounds):
    x = tg.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], dtype=tg.float64, requires_grad=True)
    x.clamp(*bounds).sum().backward()
    low = -np.inf if bounds[0] is None else bounds[0]
    high = np.inf if bounds[1] is None else bounds[1]
    xs = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), ((xs >= low) & (xs <= high)).astype(float))


def test_integer_clamp_refuses_bounds_beyond_the_dtype_as_torch():
    x = tg.tensor([-3, 0, 5], dtype=tg.int8)
    with pytest.raises(RuntimeError, match="without overflow"):   # torch 2.13 refuses (h25o)
        x.clamp(-1000, 1000)
    assert x.clamp(-128, 127).tolist() == [-3, 0, 5]
    assert x.clamp(-1, 1).tolist() == [-1, 0, 1]
    assert x.clone().clamp_(min=1).tolist() == [1, 1, 5]


def test_zero_pad_node_has_torchs_name():
    x = tg.ones(2, 2, requires_grad=True)
    assert tg.nn.functional.pad(x, (1, 1)).grad_fn.name() == "ConstantPadNdBackward0"


def test_sub_in_place_errors_and_node_say_sub():
    with pytest.raises(ShapeError, match="^sub_: "):
        tg.ones(3).sub_(tg.ones(4))
    with pytest.raises(ShapeError, match="^sub_: "):
        tg.ones(3).sub_(tg.ones(4), alpha=2)
    y = tg.ones(3, requires_grad=True) * 1
    y.sub_(tg.ones(3))
    assert y.grad_fn.name() == "SubBackward0"
    x = tg.ones(3)
    x.sub_(tg.ones(3), alpha=2)
    assert x.tolist() == [-1.0, -1.0, -1.0]


def test_dtype_inferred_from_lists_in_one_pass():
    f64 = np.float64(2.0)
    assert tg.tensor([1.0, 2.0]).dtype == tg.float32
    assert tg.tensor([1.0, f64]).dtype == tg.float64 and tg.tensor([[1.0], [f64]]).dtype == tg.float64
    assert tg.tensor([tg.tensor(1.0, dtype=tg.float64), 2.0]).dtype == tg.float64
    assert tg.tensor([1, 2.5]).dtype == tg.float32 and tg.tensor([1, 2]).dtype == tg.int64
    assert tg.tensor([1.0, 2j]).dtype == tg.complex64 and tg.tensor([[1.0], [2j]]).dtype == tg.complex64
    assert tg.tensor([1.0, np.complex128(2j)]).dtype == tg.complex128
    assert tg.tensor([1.0, np.complex64(2j), f64]).dtype == tg.complex128    # (torch 2.13: promoted)
    assert tg.tensor([2j, tg.tensor(1.0, dtype=tg.float64)]).dtype == tg.complex128
    assert tg.tensor([1.0, np.complex64(2j)]).dtype == tg.complex64
    assert tg.tensor(np.complex128(1j)).dtype == tg.complex128 and tg.tensor(1j).dtype == tg.complex64
    big = [float(i) for i in range(1000)] + [f64]
    assert tg.tensor(big).dtype == tg.float64


def test_dtype_inferred_from_lists_follows_the_default(monkeypatch):
    tg.set_default_dtype(tg.float64)
    try:
        assert tg.tensor([1j]).dtype == tg.complex128 and tg.tensor([1.0]).dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)
