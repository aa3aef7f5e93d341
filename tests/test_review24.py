"""Review of session 24's merges: the set metrics (kernel distance, prdc), as_strided_scatter,
from_dlpack and set_default_tensor_type -- bad input gives a typed error naming the problem,
never a NaN or a silently different answer."""
import ctypes
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import metrics
from tensorgan.errors import ConfigError, DataError, DTypeError, MemoryOverlapError, ShapeError

RNG = np.random.RandomState(0)
A, B = RNG.randn(40, 8), RNG.randn(50, 8)


# ---------------------------------------------------------------------------------------------
# kernel distance / mmd2 / prdc
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e120, 1e60])
def test_kernel_distance_overflow_is_refused_not_nan(scale):
    with pytest.raises(DataError, match="not finite.*rescale"):
        metrics.kernel_distance(A * scale, B * scale, 3)


def test_fractional_degree_of_a_negative_base_is_refused():
    with pytest.raises(DataError, match="fractional degree"):
        metrics.polynomial_kernel(A, B, degree=0.5)
    with pytest.raises(DataError, match="not finite"):
        metrics.kernel_distance(A, B, 3, degree=0.5)


@pytest.mark.parametrize("kw", [dict(gamma=float("nan")), dict(coef0=float("inf")), dict(degree="3"),
                                dict(gamma="x"), dict(coef0=True)])
def test_kernel_parameters_must_be_finite_reals(kw):
    name = next(iter(kw))
    with pytest.raises(ConfigError, match=f"{name} must be a finite real"):
        metrics.kernel_distance(A, B, 3, **kw)
    with pytest.raises(ConfigError, match=f"{name} must be a finite real"):
        metrics.polynomial_kernel(A, B, **kw)


@pytest.mark.parametrize("bad", [[["a", "b"]] * 3, [[1.0, 2.0], [3.0]]])
def test_non_numeric_or_ragged_features_are_a_data_error(bad):
    with pytest.raises(DataError, match="features1 are not an \\(N, d\\) array of real numbers"):
        metrics.kernel_distance(bad, B[:, :2])
    with pytest.raises(DataError, match="real features are not"):
        metrics.prdc(bad, B[:, :2], 1)


@pytest.mark.parametrize("seed", [-1, "x", 2 ** 40])
def test_bad_seeds_are_config_errors(seed):
    with pytest.raises(ConfigError, match="seed must be None or an integer"):
        metrics.kernel_distance(A, B, 3, seed=seed)
    with pytest.raises(ConfigError, match="seed must be None or an integer"):
        metrics.classifier_score_splits(np.full((20, 10), 0.1), 2, seed=seed)


def test_subsets_that_are_not_a_sequence():
    with pytest.raises(ConfigError, match="subsets must be a sequence"):
        metrics.kernel_distance(A, B, subsets=5)


def test_mmd2_refuses_nan_and_complex_kernels():
    ones = np.ones((3, 3))
    with pytest.raises(DataError, match="NaN or infinite"):
        metrics.mmd2(np.full((3, 3), np.nan), ones, ones)
    with pytest.raises(DataError, match="complex"):
        metrics.mmd2(ones * 1j, ones, ones)
    with pytest.raises(DataError, match="arrays of real numbers"):
        metrics.mmd2("a", "b", "c")
    # and a finite one still computes: sum_{i!=j}(1 + 1) / 6 - 2 * 9 / 9 = 0
    assert metrics.mmd2(ones, ones, ones) == 0.0


def test_prdc_refuses_features_whose_distances_overflow():
    with pytest.raises(DataError, match="too large for float64 distances"):
        metrics.prdc(A * 1e200, B * 1e200, 3)
    # large but representable: scale-invariant, as the k-NN balls scale with the features
    assert metrics.prdc(A * 1e100, B * 1e100, 3) == metrics.prdc(A, B, 3)


def test_set_metrics_with_too_few_images_name_the_images():
    images = RNG.rand(4, 28, 28).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ShapeError, match="at least 6 images.*got 4"):
            metrics.evaluate_samples(images, reference_features=RNG.randn(20, 128))


# ---------------------------------------------------------------------------------------------
# as_strided_scatter: positions counted in the tensor's storage, as torch counts them
# ---------------------------------------------------------------------------------------------
def test_as_strided_scatter_counts_a_transposed_tensor_column_by_column():
    x = tg.zeros(3, 2).t()                          # shape (2, 3), strides (1, 2)
    out = x.as_strided_scatter(tg.tensor([5.0, 6.0]), (2,), (1,), 0)
    assert out.tolist() == [[5.0, 0.0, 0.0], [6.0, 0.0, 0.0]]     # storage 0, 1: down column 0
    assert tg.as_strided_scatter(x, tg.tensor([7.0]), (1,), (1,), 2).tolist() == \
        [[0.0, 7.0, 0.0], [0.0, 0.0, 0.0]]


def test_as_strided_scatter_on_a_slice_counts_its_storage_and_gaps():
    x = tg.arange(6.0)[1::2]                        # [1, 3, 5] at storage 1, 3, 5
    src = tg.tensor([-1.0])
    assert x.as_strided_scatter(src, (1,), (1,), 1).tolist() == [-1.0, 3.0, 5.0]
    assert x.as_strided_scatter(src, (1,), (1,), 3).tolist() == [1.0, -1.0, 5.0]
    assert x.as_strided_scatter(src, (1,), (1,), 2).tolist() == [1.0, 3.0, 5.0]   # a gap
    assert x.as_strided_scatter(src, (1,), (1,), 0).tolist() == [1.0, 3.0, 5.0]   # before it
    with pytest.raises(ShapeError, match="out of bounds"):
        x.as_strided_scatter(src, (1,), (1,), 6)


def test_as_strided_scatter_gradient_follows_the_storage_positions():
    x = tg.zeros(3, 2).t().requires_grad_()
    s = tg.tensor([1.0, 1.0], requires_grad=True)
    w = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    (x.as_strided_scatter(s, (2,), (2,), 1) * w).sum().backward()   # storage 1, 3: (1,0), (1,1)
    assert s.grad.tolist() == [4.0, 5.0]
    assert x.grad.tolist() == [[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]]


def test_as_strided_scatter_refuses_a_zero_stride_and_casts_src():
    with pytest.raises(MemoryOverlapError, match="0 stride"):
        tg.zeros(4).as_strided_scatter(tg.arange(3.0), (3,), (0,), 0)
    out = tg.zeros(4).as_strided_scatter(tg.tensor([1, 2]), (2,), (2,), 1)
    assert out.dtype == tg.float32 and out.tolist() == [0.0, 1.0, 0.0, 2.0]


def test_as_strided_scatter_on_an_expanded_tensor_counts_row_major():
    x = tg.zeros(1, 3).expand(2, 3)
    assert x.as_strided_scatter(tg.ones(2), (2,), (1,), 0).tolist() == [[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]


# ---------------------------------------------------------------------------------------------
# from_dlpack / set_default_tensor_type
# ---------------------------------------------------------------------------------------------
class _BFloat16Producer:
    """A DLPack producer of a bfloat16 tensor (a float16 array's capsule relabelled), as
    torch.bfloat16 tensors arrive."""

    def __init__(self):
        self.array = np.zeros(3, np.float16)
        self.capsule = self.array.__dlpack__()
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        pointer = get(self.capsule, b"dltensor")
        ctypes.c_uint8.from_address(pointer + 20).value = 4      # DLDataType.code = kDLBfloat

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


def test_from_dlpack_of_an_unsupported_dtype_is_a_dtype_error():
    with pytest.raises(DTypeError, match="from_dlpack: the tensor's dtype is not supported"):
        tg.from_dlpack(_BFloat16Producer())


def test_set_default_tensor_type_half_names_what_tensorgan_takes():
    before = tg.get_default_dtype()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DTypeError, match="float32 or float64"):
            tg.set_default_tensor_type(tg.HalfTensor)
    assert tg.get_default_dtype() == before
