"""The NumPy reference kernels are the specification, so they are verified from first principles:

* forwards against the loop definitions in naive.py (never against themselves),
* every backward against central finite differences in float64,
* conv_transpose2d against conv2d through the adjoint identity <conv2d(x), y> == <x, conv_transpose2d(y)>,
* batch-norm running statistics, eval mode and weight None; dtype preservation for float32,
* the fused batch norm + leaky ReLU against the composition of the two (forward) and finite
  differences (backward).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tensorgan.kernels import KERNEL_API
from tensorgan.kernels import reference as ref

# naive.py sits beside this file; pytest's default import mode already puts this folder on sys.path,
# the insert keeps the import working under --import-mode=importlib too.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
from naive import naive_batch_norm_train, naive_conv2d, naive_conv_transpose2d, naive_leaky_relu  # noqa: E402

FD_EPS = 1e-6
# torch.autograd.gradcheck's tolerances.
GRAD_ATOL, GRAD_RTOL = 1e-5, 1e-3
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
NAIVE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def numerical_gradient(scalar_fn, array: np.ndarray) -> np.ndarray:
    """Central differences of scalar_fn() w.r.t. every element of array (perturbed in place, restored)."""
    grad = np.zeros_like(array)
    flat, flat_grad = array.reshape(-1), grad.reshape(-1)
    for index in range(flat.size):
        original = flat[index]
        flat[index] = original + FD_EPS
        upper = scalar_fn()
        flat[index] = original - FD_EPS
        lower = scalar_fn()
        flat[index] = original
        flat_grad[index] = (upper - lower) / (2 * FD_EPS)
    return grad


def assert_gradient(analytic: np.ndarray, numeric: np.ndarray) -> None:
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, atol=GRAD_ATOL, rtol=GRAD_RTOL)


# --------------------------------------------------------------------------------------------
# Configurations
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConvConfig:
    batch: int
    c_in: int
    c_out: int
    height: int
    width: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    seed: int

    @property
    def out_hw(self) -> tuple[int, int]:
        return (
            (self.height + 2 * self.padding[0] - self.kernel[0]) // self.stride[0] + 1,
            (self.width + 2 * self.padding[1] - self.kernel[1]) // self.stride[1] + 1,
        )

    @property
    def fitting_output_padding(self) -> tuple[int, int]:
        """output_padding that makes conv_transpose2d of the conv2d output land back on (H, W)."""
        return (
            (self.height + 2 * self.padding[0] - self.kernel[0]) % self.stride[0],
            (self.width + 2 * self.padding[1] - self.kernel[1]) % self.stride[1],
        )


@st.composite
def conv_configs(draw, max_batch=3, max_channels=5, max_size=9, max_kernel=5) -> ConvConfig:
    config = ConvConfig(
        batch=draw(st.integers(1, max_batch)),
        c_in=draw(st.integers(1, max_channels)),
        c_out=draw(st.integers(1, max_channels)),
        height=draw(st.integers(1, max_size)),
        width=draw(st.integers(1, max_size)),
        kernel=(draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))),
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    # The kernel must fit the padded input, else the output is empty.
    assume(config.height + 2 * config.padding[0] >= config.kernel[0])
    assume(config.width + 2 * config.padding[1] >= config.kernel[1])
    return config


@dataclass(frozen=True)
class ConvTransposeConfig:
    batch: int
    c_in: int
    c_out: int
    height: int
    width: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    seed: int

    @property
    def out_hw(self) -> tuple[int, int]:
        return (
            (self.height - 1) * self.stride[0] - 2 * self.padding[0] + self.kernel[0] + self.output_padding[0],
            (self.width - 1) * self.stride[1] - 2 * self.padding[1] + self.kernel[1] + self.output_padding[1],
        )


@st.composite
def conv_transpose_configs(draw, max_batch=3, max_channels=5, max_size=9, max_kernel=5) -> ConvTransposeConfig:
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    config = ConvTransposeConfig(
        batch=draw(st.integers(1, max_batch)),
        c_in=draw(st.integers(1, max_channels)),
        c_out=draw(st.integers(1, max_channels)),
        height=draw(st.integers(1, max_size)),
        width=draw(st.integers(1, max_size)),
        kernel=(draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))),
        stride=stride,
        padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        # As in PyTorch: output_padding < stride (dilation is always 1 here).
        output_padding=(draw(st.integers(0, stride[0] - 1)), draw(st.integers(0, stride[1] - 1))),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    assume(min(config.out_hw) >= 1)
    return config


def conv_arrays(config: ConvConfig, dtype=np.float64):
    rng = np.random.default_rng(config.seed)
    x = rng.standard_normal((config.batch, config.c_in, config.height, config.width)).astype(dtype)
    w = rng.standard_normal((config.c_out, config.c_in) + config.kernel).astype(dtype)
    b = rng.standard_normal(config.c_out).astype(dtype)
    return rng, x, w, b


def conv_transpose_arrays(config: ConvTransposeConfig, dtype=np.float64):
    rng = np.random.default_rng(config.seed)
    x = rng.standard_normal((config.batch, config.c_in, config.height, config.width)).astype(dtype)
    w = rng.standard_normal((config.c_in, config.c_out) + config.kernel).astype(dtype)
    b = rng.standard_normal(config.c_out).astype(dtype)
    return rng, x, w, b


# --------------------------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------------------------

def test_reference_exports_exactly_the_kernel_api():
    assert tuple(ref.__all__) == KERNEL_API
    for name in KERNEL_API:
        assert callable(getattr(ref, name))


# --------------------------------------------------------------------------------------------
# conv2d
# --------------------------------------------------------------------------------------------

@NAIVE
@given(conv_configs(max_batch=2, max_channels=3, max_size=7), st.booleans())
def test_conv2d_matches_naive_loops(config: ConvConfig, with_bias: bool):
    _, x, w, b = conv_arrays(config)
    b = b if with_bias else None
    y = ref.conv2d(x, w, b, config.stride, config.padding)
    assert y.shape == (config.batch, config.c_out) + config.out_hw
    np.testing.assert_allclose(y, naive_conv2d(x, w, b, config.stride, config.padding), rtol=1e-12, atol=1e-12)


# The largest drawable configuration, so it is always exercised whatever hypothesis happens to draw.
LARGEST_CONV = ConvConfig(3, 5, 5, 9, 9, (5, 4), (3, 2), (2, 1), seed=11)
LARGEST_CONV_TRANSPOSE = ConvTransposeConfig(3, 5, 5, 9, 8, (5, 4), (3, 2), (2, 1), (2, 1), seed=12)


@FAST
@given(conv_configs())
@example(LARGEST_CONV)
def test_conv2d_gradients_match_finite_differences(config: ConvConfig):
    rng, x, w, b = conv_arrays(config)
    r = rng.standard_normal((config.batch, config.c_out) + config.out_hw)

    def loss() -> float:
        return float(np.sum(ref.conv2d(x, w, b, config.stride, config.padding) * r))

    # For L = sum(y * r), dL/dy = r.
    assert_gradient(ref.conv2d_grad_input(r, w, (config.height, config.width), config.stride, config.padding),
                    numerical_gradient(loss, x))
    assert_gradient(ref.conv2d_grad_weight(x, r, config.kernel, config.stride, config.padding),
                    numerical_gradient(loss, w))
    assert_gradient(ref.conv2d_grad_bias(r), numerical_gradient(loss, b))


@pytest.mark.parametrize(
    "height, width, kernel, stride, padding",
    [
        (7, 8, (1, 1), (3, 3), (0, 0)),   # stride > kernel: most input pixels are never read
        (5, 5, (2, 1), (3, 2), (1, 0)),   # stride > kernel, non-square
        (6, 6, (3, 3), (2, 2), (0, 0)),   # trailing row/column never reached by a window
        (2, 3, (5, 4), (1, 1), (2, 2)),   # kernel larger than the unpadded input
        (1, 1, (1, 1), (1, 1), (0, 0)),
    ],
)
def test_conv2d_edge_cases(height, width, kernel, stride, padding):
    config = ConvConfig(2, 2, 3, height, width, kernel, stride, padding, seed=7)
    rng, x, w, b = conv_arrays(config)
    np.testing.assert_allclose(ref.conv2d(x, w, b, stride, padding), naive_conv2d(x, w, b, stride, padding),
                               rtol=1e-12, atol=1e-12)
    r = rng.standard_normal((config.batch, config.c_out) + config.out_hw)

    def loss() -> float:
        return float(np.sum(ref.conv2d(x, w, b, stride, padding) * r))

    grad_x = ref.conv2d_grad_input(r, w, (height, width), stride, padding)
    assert_gradient(grad_x, numerical_gradient(loss, x))
    assert_gradient(ref.conv2d_grad_weight(x, r, kernel, stride, padding), numerical_gradient(loss, w))


# --------------------------------------------------------------------------------------------
# conv_transpose2d
# --------------------------------------------------------------------------------------------

@NAIVE
@given(conv_transpose_configs(max_batch=2, max_channels=3, max_size=6), st.booleans())
def test_conv_transpose2d_matches_naive_loops(config: ConvTransposeConfig, with_bias: bool):
    _, x, w, b = conv_transpose_arrays(config)
    b = b if with_bias else None
    y = ref.conv_transpose2d(x, w, b, config.stride, config.padding, config.output_padding)
    assert y.shape == (config.batch, config.c_out) + config.out_hw
    expected = naive_conv_transpose2d(x, w, b, config.stride, config.padding, config.output_padding)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@FAST
@given(conv_transpose_configs())
@example(LARGEST_CONV_TRANSPOSE)
def test_conv_transpose2d_gradients_match_finite_differences(config: ConvTransposeConfig):
    rng, x, w, b = conv_transpose_arrays(config)
    r = rng.standard_normal((config.batch, config.c_out) + config.out_hw)
    args = (config.stride, config.padding)

    def loss() -> float:
        return float(np.sum(ref.conv_transpose2d(x, w, b, *args, config.output_padding) * r))

    assert_gradient(ref.conv_transpose2d_grad_input(r, w, *args), numerical_gradient(loss, x))
    assert_gradient(ref.conv_transpose2d_grad_weight(x, r, config.kernel, *args), numerical_gradient(loss, w))
    # The transposed convolution's bias gradient is conv2d_grad_bias (same reduction).
    assert_gradient(ref.conv2d_grad_bias(r), numerical_gradient(loss, b))


@FAST
@given(conv_configs())
@example(LARGEST_CONV)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(config: ConvConfig):
    rng, x, w, _ = conv_arrays(config)
    y = rng.standard_normal((config.batch, config.c_out) + config.out_hw)
    # conv2d weight (C_out, C_in, kH, kW) read as a transposed-conv weight (C_in', C_out', kH, kW)
    # maps (N, C_out, Ho, Wo) back to (N, C_in, H, W) once output_padding recovers the floor division.
    back = ref.conv_transpose2d(y, w, None, config.stride, config.padding, config.fitting_output_padding)
    assert back.shape == x.shape
    lhs = np.vdot(ref.conv2d(x, w, None, config.stride, config.padding), y)
    rhs = np.vdot(x, back)
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


def test_conv_transpose2d_dcgan_generator_shape():
    # The DCGAN generator's upsampling layer: 7 -> 14 with k4 s2 p1.
    x = np.ones((2, 3, 7, 7))
    w = np.ones((3, 4, 4, 4))
    assert ref.conv_transpose2d(x, w, None, (2, 2), (1, 1), (0, 0)).shape == (2, 4, 14, 14)


# --------------------------------------------------------------------------------------------
# batch norm
# --------------------------------------------------------------------------------------------

@st.composite
def batch_norm_cases(draw):
    spatial = draw(st.sampled_from([(), (1, 1), (2, 3), (4, 4)]))
    batch = draw(st.integers(1, 4))
    # Training needs more than one value per channel (PyTorch refuses otherwise).
    assume(batch * int(np.prod(spatial, dtype=int)) >= 2)
    channels = draw(st.integers(1, 4))
    return dict(
        shape=(batch, channels) + spatial,
        affine=draw(st.booleans()),
        momentum=draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])),
        eps=draw(st.sampled_from([1e-5, 1e-3, 0.1])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def batch_norm_arrays(case, dtype=np.float64):
    rng = np.random.default_rng(case["seed"])
    channels = case["shape"][1]
    x = (rng.standard_normal(case["shape"]) * 2.0 + 0.5).astype(dtype)
    weight = rng.uniform(0.5, 1.5, channels).astype(dtype) if case["affine"] else None
    bias = rng.standard_normal(channels).astype(dtype) if case["affine"] else None
    running_mean = rng.standard_normal(channels).astype(dtype)
    running_var = rng.uniform(0.5, 2.0, channels).astype(dtype)
    return rng, x, weight, bias, running_mean, running_var


@FAST
@given(batch_norm_cases())
def test_batch_norm_training_forward_and_running_stats(case):
    _, x, weight, bias, running_mean, running_var = batch_norm_arrays(case)
    old_mean, old_var = running_mean.copy(), running_var.copy()
    momentum, eps = case["momentum"], case["eps"]
    y, mean, invstd = ref.batch_norm(x, running_mean, running_var, weight, bias, True, momentum, eps)

    expected_y, expected_mean, biased_var, unbiased_var = naive_batch_norm_train(x, weight, bias, eps)
    np.testing.assert_allclose(y, expected_y, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(invstd, 1.0 / np.sqrt(biased_var + eps), rtol=1e-10)
    # In place, PyTorch semantics: running = (1 - momentum) * running + momentum * batch statistic,
    # with the *unbiased* variance.
    np.testing.assert_allclose(running_mean, (1 - momentum) * old_mean + momentum * expected_mean, rtol=1e-12)
    np.testing.assert_allclose(running_var, (1 - momentum) * old_var + momentum * unbiased_var, rtol=1e-12)


def test_batch_norm_training_without_running_stats():
    x = np.random.default_rng(0).standard_normal((5, 3, 2, 2))
    y, mean, invstd = ref.batch_norm(x, None, None, None, None, True, 0.1, 1e-5)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)) / (x.var(axis=(0, 2, 3)) + 1e-5))


@FAST
@given(batch_norm_cases())
def test_batch_norm_eval_uses_running_stats(case):
    _, x, weight, bias, running_mean, running_var = batch_norm_arrays(case)
    old_mean, old_var = running_mean.copy(), running_var.copy()
    eps = case["eps"]
    y, mean, invstd = ref.batch_norm(x, running_mean, running_var, weight, bias, False, case["momentum"], eps)
    # Eval never touches the running statistics.
    np.testing.assert_array_equal(running_mean, old_mean)
    np.testing.assert_array_equal(running_var, old_var)
    np.testing.assert_allclose(mean, old_mean)
    np.testing.assert_allclose(invstd, 1.0 / np.sqrt(old_var + eps))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    expected = (x - old_mean.reshape(shape)) / np.sqrt(old_var.reshape(shape) + eps)
    if weight is not None:
        expected = expected * weight.reshape(shape) + bias.reshape(shape)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    # The returned mean must not alias the running buffer the module keeps updating.
    assert not np.shares_memory(mean, running_mean)


@FAST
@given(batch_norm_cases(), st.booleans())
def test_batch_norm_backward_matches_finite_differences(case, training: bool):
    rng, x, weight, bias, running_mean, running_var = batch_norm_arrays(case)
    momentum, eps = case["momentum"], case["eps"]
    r = rng.standard_normal(x.shape)

    def forward():
        # Fresh running buffers each call: the in-place update must not leak into the loss.
        return ref.batch_norm(x, running_mean.copy(), running_var.copy(), weight, bias, training, momentum, eps)

    def loss() -> float:
        return float(np.sum(forward()[0] * r))

    _, mean, invstd = forward()
    gx, gweight, gbias = ref.batch_norm_backward(r, x, weight, mean, invstd, training)
    assert_gradient(gx, numerical_gradient(loss, x))
    if weight is not None:
        assert_gradient(gweight, numerical_gradient(loss, weight))
        assert_gradient(gbias, numerical_gradient(loss, bias))
    else:
        # weight None behaves as weight = ones, bias = zeros; gweight / gbias are still returned.
        ones, zeros = np.ones(x.shape[1]), np.zeros(x.shape[1])

        def affine_loss() -> float:
            y = ref.batch_norm(x, running_mean.copy(), running_var.copy(), ones, zeros, training, momentum, eps)[0]
            return float(np.sum(y * r))

        assert_gradient(gweight, numerical_gradient(affine_loss, ones))
        assert_gradient(gbias, numerical_gradient(affine_loss, zeros))


# --------------------------------------------------------------------------------------------
# batch norm fused with leaky ReLU
# --------------------------------------------------------------------------------------------

SLOPES = st.sampled_from([0.2, 0.01, 0.0, -0.5, 1.0, 1.5])


@FAST
@given(batch_norm_cases(), st.booleans(), SLOPES)
def test_batch_norm_leaky_relu_is_batch_norm_then_leaky_relu(case, training: bool, slope: float):
    _, x, weight, bias, running_mean, running_var = batch_norm_arrays(case)
    momentum, eps = case["momentum"], case["eps"]
    rm, rv = running_mean.copy(), running_var.copy()
    y, mean, invstd = ref.batch_norm_leaky_relu(x, rm, rv, weight, bias, training, momentum, eps, slope)
    z, want_mean, want_invstd = ref.batch_norm(x, running_mean, running_var, weight, bias, training,
                                               momentum, eps)
    np.testing.assert_array_equal(y, ref.leaky_relu(z, slope))
    np.testing.assert_array_equal(mean, want_mean)
    np.testing.assert_array_equal(invstd, want_invstd)
    np.testing.assert_array_equal(rm, running_mean)      # the same in-place update (or none)
    np.testing.assert_array_equal(rv, running_var)


@FAST
@given(batch_norm_cases(), st.booleans(), SLOPES)
def test_batch_norm_leaky_relu_backward_matches_finite_differences(case, training: bool, slope: float):
    rng, x, weight, bias, running_mean, running_var = batch_norm_arrays(case)
    momentum, eps = case["momentum"], case["eps"]
    r = rng.standard_normal(x.shape)
    ones, zeros = np.ones(x.shape[1]), np.zeros(x.shape[1])

    def forward(w=weight, b=bias):
        return ref.batch_norm_leaky_relu(x, running_mean.copy(), running_var.copy(), w, b, training,
                                         momentum, eps, slope)

    # Away from the kink: central differences straddling z = 0 mix the two slopes.
    z = ref.batch_norm(x, running_mean.copy(), running_var.copy(), weight, bias, training, momentum, eps)[0]
    assume(np.abs(z).min() > 1e-3)

    def loss() -> float:
        return float(np.sum(forward()[0] * r))

    _, mean, invstd = forward()
    gx, gweight, gbias = ref.batch_norm_leaky_relu_backward(r, x, weight, bias, mean, invstd, training, slope)
    assert_gradient(gx, numerical_gradient(loss, x))
    if weight is not None:
        assert_gradient(gweight, numerical_gradient(loss, weight))
        assert_gradient(gbias, numerical_gradient(loss, bias))
    else:  # weight / bias None behave as ones / zeros; gweight / gbias are still returned

        def affine_loss() -> float:
            return float(np.sum(forward(ones, zeros)[0] * r))

        assert_gradient(gweight, numerical_gradient(affine_loss, ones))
        assert_gradient(gbias, numerical_gradient(affine_loss, zeros))


@pytest.mark.parametrize("slope", [0.0, -0.5])
def test_batch_norm_leaky_relu_mask_comes_from_the_pre_activation(slope):
    # slope 0 zeroes every negative z and a negative slope makes it positive: sign(y) cannot tell
    # which elements were negative, the recomputed z can.
    x = np.array([[-2.0], [-1.0], [0.5], [2.5]])
    y, mean, invstd = ref.batch_norm_leaky_relu(x, None, None, None, None, True, 0.1, 1e-5, slope)
    z = (x - mean) * invstd
    np.testing.assert_allclose(y, np.where(z < 0, slope * z, z))
    gy = np.ones_like(x)
    gx, _, gbias = ref.batch_norm_leaky_relu_backward(gy, x, None, None, mean, invstd, True, slope)
    np.testing.assert_allclose(gbias, [2 * slope + 2])          # sum of the local derivatives
    want = ref.batch_norm_backward(np.where(z < 0, slope, 1.0), x, None, mean, invstd, True)[0]
    np.testing.assert_allclose(gx, want)


# --------------------------------------------------------------------------------------------
# leaky ReLU
# --------------------------------------------------------------------------------------------

@FAST
@given(st.integers(0, 2**32 - 1), st.sampled_from([(7,), (2, 3), (2, 3, 4, 5)]),
       st.sampled_from([0.0, 0.01, 0.2, 1.0, 1.5]))
def test_leaky_relu_forward_and_backward(seed: int, shape, negative_slope: float):
    rng = np.random.default_rng(seed)
    # Away from the kink at 0, where the derivative is undefined: |x| in [0.1, 2].
    x = rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    r = rng.standard_normal(shape)
    np.testing.assert_allclose(ref.leaky_relu(x, negative_slope), naive_leaky_relu(x, negative_slope), rtol=1e-15)

    def loss() -> float:
        return float(np.sum(ref.leaky_relu(x, negative_slope) * r))

    assert_gradient(ref.leaky_relu_backward(r, x, negative_slope), numerical_gradient(loss, x))


def test_leaky_relu_derivative_at_zero_is_the_slope():
    # PyTorch's convention: 1 only where x > 0 (NaN and both zeros take the slope).
    x = np.array([-1.0, 0.0, -0.0, 1.0, np.nan])
    np.testing.assert_array_equal(ref.leaky_relu(x[:4], 0.2), [-0.2, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(ref.leaky_relu_backward(np.ones(5), x, 0.2), [0.2, 0.2, 0.2, 1.0, 0.2])


# --------------------------------------------------------------------------------------------
# dtypes: float32 in, float32 out (no silent upcast); results are fresh arrays
# --------------------------------------------------------------------------------------------

def test_float32_inputs_give_float32_outputs():
    f32 = np.float32
    conv = ConvConfig(2, 3, 4, 6, 5, (3, 2), (2, 1), (1, 1), seed=3)
    rng, x, w, b = conv_arrays(conv, f32)
    gy = rng.standard_normal((2, 4) + conv.out_hw).astype(f32)
    outputs = {
        "conv2d": ref.conv2d(x, w, b, conv.stride, conv.padding),
        "conv2d_grad_input": ref.conv2d_grad_input(gy, w, (6, 5), conv.stride, conv.padding),
        "conv2d_grad_weight": ref.conv2d_grad_weight(x, gy, conv.kernel, conv.stride, conv.padding),
        "conv2d_grad_bias": ref.conv2d_grad_bias(gy),
    }
    convt = ConvTransposeConfig(2, 3, 4, 5, 4, (4, 3), (2, 2), (1, 0), (1, 0), seed=4)
    rng, x, w, b = conv_transpose_arrays(convt, f32)
    gy = rng.standard_normal((2, 4) + convt.out_hw).astype(f32)
    outputs["conv_transpose2d"] = ref.conv_transpose2d(x, w, b, convt.stride, convt.padding, convt.output_padding)
    outputs["conv_transpose2d_grad_input"] = ref.conv_transpose2d_grad_input(gy, w, convt.stride, convt.padding)
    outputs["conv_transpose2d_grad_weight"] = ref.conv_transpose2d_grad_weight(
        x, gy, convt.kernel, convt.stride, convt.padding)
    for training in (True, False):
        case = dict(shape=(4, 3, 2, 2), affine=True, momentum=0.1, eps=1e-5, seed=5)
        _, x, weight, bias, running_mean, running_var = batch_norm_arrays(case, f32)
        y, mean, invstd = ref.batch_norm(x, running_mean, running_var, weight, bias, training, 0.1, 1e-5)
        gx, gweight, gbias = ref.batch_norm_backward(y, x, weight, mean, invstd, training)
        for name, value in dict(y=y, mean=mean, invstd=invstd, gx=gx, gweight=gweight, gbias=gbias,
                                running_mean=running_mean, running_var=running_var).items():
            outputs[f"batch_norm[{training=}].{name}"] = value
        y, mean, invstd = ref.batch_norm_leaky_relu(x, running_mean, running_var, weight, bias, training,
                                                    0.1, 1e-5, 0.2)
        grads = ref.batch_norm_leaky_relu_backward(y, x, weight, bias, mean, invstd, training, 0.2)
        for name, value in zip(("y", "mean", "invstd", "gx", "gweight", "gbias"), (y, mean, invstd) + grads):
            outputs[f"batch_norm_leaky_relu[{training=}].{name}"] = value
    x = np.linspace(-1, 1, 12, dtype=f32).reshape(3, 4)
    outputs["leaky_relu"] = ref.leaky_relu(x, 0.2)
    outputs["leaky_relu_backward"] = ref.leaky_relu_backward(x, x, 0.2)
    wrong = {name: value.dtype for name, value in outputs.items() if value.dtype != f32}
    assert not wrong, wrong


def test_conv_outputs_are_c_contiguous_fresh_arrays():
    conv = ConvConfig(2, 3, 4, 6, 5, (3, 2), (2, 1), (1, 1), seed=3)
    rng, x, w, b = conv_arrays(conv)
    gy = rng.standard_normal((2, 4) + conv.out_hw)
    for result in (ref.conv2d(x, w, b, conv.stride, conv.padding),
                   ref.conv2d_grad_input(gy, w, (6, 5), conv.stride, conv.padding),
                   ref.conv2d_grad_weight(x, gy, conv.kernel, conv.stride, conv.padding)):
        assert result.flags.c_contiguous
        assert not np.shares_memory(result, x) and not np.shares_memory(result, gy)


# --------------------------------------------------------------------------------------------
# Adam
# --------------------------------------------------------------------------------------------

def test_adam_update_follows_the_formula_element_by_element():
    """The ufunc sequence against the textbook formula, one Python float at a time (float64)."""
    rng = np.random.default_rng(3)
    p, m, v = rng.standard_normal(5), rng.standard_normal(5) * 0.1, rng.random(5) * 0.01
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    want = []
    for i in range(5):
        pi, mi, vi = float(p[i]), float(m[i]), float(v[i])
        pp, mm, vv, gg = pi, mi, vi, 0.0
        for step in (1, 2):
            gg = float(np.sin(i + step))                 # the gradients used below
            mm = b1 * mm + (1 - b1) * gg
            vv = b2 * vv + (1 - b2) * gg * gg
            m_hat, v_hat = mm / (1 - b1 ** step), vv / (1 - b2 ** step)
            pp -= lr * m_hat / (math.sqrt(v_hat) + eps)
        want.append((pp, mm, vv))
    for step in (1, 2):
        ref.adam_update(p, np.sin(np.arange(5) + step), m, v, lr, b1, b2, eps, step)
    np.testing.assert_allclose(np.stack([p, m, v], axis=1), np.array(want), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("weight", [0.0, 0.001, 0.3, 0.5, 0.999, 1.0, -0.7, 1.5])
def test_lerp_update_follows_torch_lerp_element_by_element(weight):
    """The weight average: a + w (end - a) below |w| 0.5, end - (end - a)(1 - w) from there on,
    one Python float at a time; weight 1 gives end exactly, weight 0 gives a; in place too."""
    rng = np.random.default_rng(5)
    a, end = rng.standard_normal(7), rng.standard_normal(7)
    want = [float(x) + weight * (float(e) - float(x)) if abs(weight) < 0.5
            else float(e) - (float(e) - float(x)) * (1 - weight) for x, e in zip(a, end)]
    out = np.full(7, np.nan)
    ref.lerp_update(a, end, weight, out)
    np.testing.assert_array_equal(out, want)
    if weight in (0.0, 1.0):
        np.testing.assert_array_equal(out, a if weight == 0.0 else end)
    ref.lerp_update(a, end, weight, a)
    np.testing.assert_array_equal(a, want)


@pytest.mark.parametrize("needs", [(True, True, True), (True, False, False), (False, True, True),
                                   (False, False, False)])
def test_backward_returns_exactly_the_gradients_asked_for(needs):
    """conv*_backward (PyTorch's convolution_backward): the three separate functions' results where
    asked for, None elsewhere."""
    rng = np.random.default_rng(4)
    x, gy = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 4, 3, 3))
    w = rng.standard_normal((4, 3, 3, 2))
    want = (ref.conv2d_grad_input(gy, w, (6, 5), (2, 2), (1, 1)),
            ref.conv2d_grad_weight(x, gy, (3, 2), (2, 2), (1, 1)), ref.conv2d_grad_bias(gy))
    for got, expected, need in zip(ref.conv2d_backward(x, gy, w, (2, 2), (1, 1), needs), want, needs):
        assert (got is None) if not need else np.array_equal(got, expected)
    wt = rng.standard_normal((3, 4, 3, 2))             # transposed: (C_in, C_out, kH, kW)
    y = ref.conv_transpose2d(x, wt, None, (2, 2), (1, 1), (0, 0))
    gy = rng.standard_normal(y.shape)
    want = (ref.conv_transpose2d_grad_input(gy, wt, (2, 2), (1, 1)),
            ref.conv_transpose2d_grad_weight(x, gy, (3, 2), (2, 2), (1, 1)), ref.conv2d_grad_bias(gy))
    for got, expected, need in zip(ref.conv_transpose2d_backward(x, gy, wt, (2, 2), (1, 1), needs),
                                   want, needs):
        assert (got is None) if not need else np.array_equal(got, expected)
