"""Session 30's speed paths for grouped convolutions: the depthwise kernels' parallel build (one
run of planes per thread) against their serial build, and both against a NumPy reference."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan import depthwise_kernels as dk


def _depthwise_reference(x, w, stride, padding, dilation):
    """conv2d with groups == C_in by explicit taps in float64."""
    n, c, h, wd = x.shape
    co, _, kh, kw = w.shape
    m = co // c
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    oh = dk.output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = dk.output_size(wd, kw, stride[1], padding[1], dilation[1])
    y = np.zeros((n, co, oh, ow))
    for o in range(co):
        for p in range(kh):
            for q in range(kw):
                r0, c0 = p * dilation[0], q * dilation[1]
                window = xp[:, o // m, r0:r0 + stride[0] * (oh - 1) + 1:stride[0],
                            c0:c0 + stride[1] * (ow - 1) + 1:stride[1]]
                y[:, o] += w[o, 0, p, q] * window
    return y


DEPTHWISE_CASES = [   # (x shape, depth multiplier, kernel, stride, padding, dilation)
    ((3, 5, 9, 11), 1, (3, 3), (1, 1), (1, 1), (1, 1)),
    ((2, 4, 12, 40), 2, (3, 3), (2, 1), (0, 2), (1, 2)),
    ((4, 6, 1, 300), 1, (1, 5), (1, 3), (0, 2), (1, 1)),
    ((1, 7, 8, 8), 3, (2, 3), (1, 2), (1, 0), (2, 1)),
]


@pytest.mark.parametrize("shape, mult, k, stride, padding, dilation", DEPTHWISE_CASES)
@pytest.mark.parametrize("parts", [2, 3, 5])
def test_depthwise_parallel_build_matches_serial_bit_for_bit(shape, mult, k, stride, padding,
                                                              dilation, parts):
    rng = np.random.default_rng(sum(shape) + parts)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((shape[1] * mult, 1) + k)
    geometry = (*stride, *padding, *dilation)
    y = np.zeros((shape[0], shape[1] * mult) + _depthwise_reference(x, w, stride, padding,
                                                                    dilation).shape[2:])
    gy = rng.standard_normal(y.shape)
    outs = {}
    for build, count in ((0, 1), (1, parts)):
        serial_or_parallel = {name: pair[build] for name, pair in dk.kernels().items()}
        y_, gx, gw = np.zeros_like(y), np.zeros_like(x), np.zeros(w.shape)
        serial_or_parallel["forward"](x, w, y_, *geometry, count)
        serial_or_parallel["grad_input"](gy, w, gx, *geometry, count)
        serial_or_parallel["grad_weight"](x, gy, gw, *geometry, min(count, shape[1]))
        outs[build] = (y_, gx, gw)
    for serial, parallel in zip(outs[0], outs[1]):
        np.testing.assert_array_equal(parallel, serial)
    np.testing.assert_allclose(outs[0][0], _depthwise_reference(x, w, stride, padding, dilation),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_depthwise_conv_above_the_threshold_matches_reference_and_finite_differences(threads):
    """Large enough for the parallel build (when Numba has 2 threads): values against the
    reference, one input and one weight gradient entry against central differences."""
    import numba
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        rng = np.random.default_rng(threads)
        x = tg.tensor(rng.standard_normal((4, 16, 24, 24)), requires_grad=True)
        w = tg.tensor(rng.standard_normal((32, 1, 3, 3)), requires_grad=True)
        y = F.conv2d(x, w, None, 1, 1, 1, 16)
        np.testing.assert_allclose(y.numpy(), _depthwise_reference(x.numpy(), w.numpy(), (1, 1),
                                                                   (1, 1), (1, 1)), rtol=1e-12, atol=1e-12)
        gy = rng.standard_normal(y.shape)
        y.backward(tg.tensor(gy))

        def loss(xa, wa):
            return float((_depthwise_reference(xa, wa, (1, 1), (1, 1), (1, 1)) * gy).sum())
        eps = 1e-6
        for array, grad, index in ((x.numpy(), x.grad.numpy(), (2, 5, 0, 7)),
                                   (w.numpy(), w.grad.numpy(), (9, 0, 2, 1))):
            up, down = array.copy(), array.copy()
            up[index] += eps
            down[index] -= eps
            args_up = (up, w.numpy()) if array.shape == x.shape else (x.numpy(), up)
            args_down = (down, w.numpy()) if array.shape == x.shape else (x.numpy(), down)
            numeric = (loss(*args_up) - loss(*args_down)) / (2 * eps)
            assert grad[index] == pytest.approx(numeric, rel=1e-6, abs=1e-6)
    finally:
        numba.set_num_threads(before)
