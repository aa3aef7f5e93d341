"""The 3-D convolution's depth fold (``tensorgan.conv3d``: depth taps stacked as channels, one
call of the 2-D CPU kernels per pass) against the plain column path it replaces, on drawn
geometries -- forward, input gradient and weight gradient, float32 and float64."""
import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

conv3d = importlib.import_module("tensorgan.conv3d")
kernels = importlib.import_module("tensorgan.kernels.cpu")


@st.composite
def geometries(draw):
    k = tuple(draw(st.integers(1, 3)) for _ in range(3))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(3))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(3))
    dilation = (draw(st.integers(1, 3)), 1, 1)       # H / W dilation takes the column path
    size = tuple(draw(st.integers(max(1, d * (kk - 1) + 1 - 2 * p), 7))
                 for kk, p, d in zip(k, padding, dilation))
    out = tuple((n + 2 * p - d * (kk - 1) - 1) // s + 1
                for n, kk, s, p, d in zip(size, k, stride, padding, dilation))
    n, c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return (n, c_in, c_out, size, k, (stride, padding, dilation, 1), out, dtype)


@settings(max_examples=40, deadline=None)
@given(geometries(), st.integers(0, 2**31 - 1))
def test_depth_fold_matches_the_column_path(case, seed):
    n, c_in, c_out, size, k, geometry, out, dtype = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in) + size).astype(dtype)
    w = rng.standard_normal((c_out, c_in) + k).astype(dtype)
    gy = rng.standard_normal((n, c_out) + out).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)
    assert conv3d._depth_fold(np, kernels, x.dtype, geometry) is kernels
    np.testing.assert_allclose(conv3d.conv3d_forward(np, x, w, geometry, out, kernels),
                               conv3d.conv3d_forward(np, x, w, geometry, out), **tol)
    np.testing.assert_allclose(conv3d.conv3d_input_grad(np, gy, w, geometry, size, kernels),
                               conv3d.conv3d_input_grad(np, gy, w, geometry, size), **tol)
    np.testing.assert_allclose(conv3d.conv3d_weight_grad(np, x, gy, geometry, w.shape, kernels),
                               conv3d.conv3d_weight_grad(np, x, gy, geometry, w.shape), **tol)


def test_depth_taps_cover_exactly_the_planes_each_output_reads():
    # input depth 5, kernel 3, stride 2, padding 2, dilation 1: output planes 0..3 read input
    # planes od * 2 + t - 2; only those inside 0..4 are listed
    taps = conv3d._depth_taps(5, 4, 3, 2, 2, 1)
    for t, first, last, start in taps:
        planes = [od * 2 + t - 2 for od in range(first, last + 1)]
        assert planes[0] == start and all(0 <= p < 5 for p in planes)
        outside = [od for od in range(4) if not first <= od <= last]
        assert all(not 0 <= od * 2 + t - 2 < 5 for od in outside)
    assert [t for t, *_ in taps] == [0, 1, 2]


@pytest.mark.parametrize("geometry", [((1, 1, 1), (0, 0, 0), (1, 2, 1), 1),   # H dilated
                                      ((1, 1, 1), (0, 0, 0), (1, 1, 1), 2)])  # two groups
def test_depth_fold_leaves_grouped_and_dilated_convolutions_to_the_column_path(geometry):
    assert conv3d._depth_fold(np, kernels, np.dtype(np.float32), geometry) is None
    assert conv3d._depth_fold(np, kernels, np.dtype(np.float16), ((1,) * 3, (0,) * 3, (1,) * 3, 1)) is None
    assert conv3d._depth_fold(np, None, np.dtype(np.float32), ((1,) * 3, (0,) * 3, (1,) * 3, 1)) is None
