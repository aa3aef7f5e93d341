"""F.pad and F.interpolate (nearest) and their layers, against NumPy references: np.pad for the
four padding modes, and torch's nearest rule (``src = floor(dst * scale)``) written out as loops.
Their gradients come from indexing ops; gradcheck and gradgradcheck confirm them in float64."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
from tensorgan import functional as F, nn
from tensorgan.errors import ConfigError, InputTypeError, ShapeError, WindowArgError

NP_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype="float64", requires_grad=grad)


def np_pad(a, pad, mode, value=0.0):
    """The reference: torch's pad tuple (last dim first) through np.pad; negative amounts crop."""
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]
    first = a.ndim - len(pairs)
    crop = (Ellipsis, *(slice(max(-b, 0), a.shape[first + i] - max(-e, 0))
                        for i, (b, e) in enumerate(pairs)))
    a = a[crop]
    widths = [(0, 0)] * first + [(max(b, 0), max(e, 0)) for b, e in pairs]
    kw = {"constant_values": value} if mode == "constant" else {}
    return np.pad(a, widths, mode=NP_MODE[mode], **kw)


def np_nearest(a, out, scales):
    """The nearest rule in exact arithmetic: output position i reads input floor(i * scale),
    clamped (the cases below keep i * scale away from whole numbers, where torch's float32
    rounding decides: those have their own test, with torch's own answers)."""
    index = [np.minimum(np.floor(np.arange(o) * s).astype(int), n - 1)
             for o, s, n in zip(out, scales, a.shape[2:])]
    result = np.empty(a.shape[:2] + tuple(out))
    for pos in np.ndindex(*out):
        result[(slice(None), slice(None), *pos)] = a[(slice(None), slice(None),
                                                      *(ix[p] for ix, p in zip(index, pos)))]
    return result


@settings(max_examples=40, deadline=None)
@given(data=st.data(), mode=st.sampled_from(sorted(NP_MODE)), dims=st.integers(1, 2))
def test_pad_matches_numpy_for_drawn_shapes_and_amounts(data, mode, dims):
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=dims + 1, max_size=dims + 2)))
    spatial = shape[-dims:]
    pad = []
    for n in spatial[::-1]:
        low = -((n - 1) // 2) if mode == "constant" else 0     # constant may crop (keep >= 1)
        high = {"reflect": n - 1, "circular": n}.get(mode, 6)
        pad += [data.draw(st.integers(low, high)), data.draw(st.integers(low, high))]
    a = np.random.default_rng(len(pad)).standard_normal(shape)
    value = 0.5 if mode == "constant" else 0.0
    np.testing.assert_array_equal(F.pad(t64(a), pad, mode, value).numpy(), np_pad(a, pad, mode, value))


@pytest.mark.parametrize("mode", sorted(NP_MODE))
def test_pad_gradients(mode):
    pad = (2, 1, 1, 2) if mode != "constant" else (2, -1, 1, 3)
    x = t64(np.random.default_rng(1).standard_normal((2, 2, 3, 4)), grad=True)
    value = 0.25 if mode == "constant" else 0.0     # (torch: only constant mode takes a value)
    assert tg.gradcheck(lambda v: F.pad(v, pad, mode, value=value) ** 2, [x])
    assert tg.gradgradcheck(lambda v: F.pad(v * v, pad, mode) ** 2, [x])


def test_pad_gradient_sums_every_copy_of_an_element():
    # replicate copies the corner 1 + 2 + 2 + 4 = 9 times (padding 2 left, 2 top): d sum / d corner
    x = t64(np.zeros((1, 1, 2, 2)), grad=True)
    F.pad(x, (2, 0, 2, 0), "replicate").sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[9, 3], [3, 1]])


@pytest.mark.parametrize("kw, shape", [
    ({"scale_factor": 2}, (2, 3, 4, 5)), ({"scale_factor": (2, 3)}, (1, 2, 3, 3)),
    ({"size": (8, 15)}, (2, 1, 4, 5)), ({"size": (7, 3)}, (2, 3, 4, 5)),
    ({"scale_factor": 1.5}, (2, 3, 4, 5)), ({"scale_factor": 0.5}, (1, 2, 8, 6)),
    ({"scale_factor": 2.5}, (1, 1, 4, 4)), ({"size": 5}, (2, 3, 7)), ({"scale_factor": 2}, (1, 2, 2, 3, 2)),
])
def test_interpolate_nearest_matches_the_rule_and_has_gradients(kw, shape):
    a = np.random.default_rng(2).standard_normal(shape)
    spatial = shape[2:]
    if "size" in kw:
        out = [kw["size"]] * len(spatial) if isinstance(kw["size"], int) else list(kw["size"])
        scales = [n / o for n, o in zip(spatial, out)]
    else:
        f = kw["scale_factor"]
        factors = list(f) if isinstance(f, tuple) else [f] * len(spatial)
        out = [math.floor(n * s) for n, s in zip(spatial, factors)]
        scales = [1 / s for s in factors]
    np.testing.assert_array_equal(F.interpolate(t64(a), **kw).numpy(), np_nearest(a, out, scales))
    x = t64(a, grad=True)
    assert tg.gradcheck(lambda v: F.interpolate(v, **kw) ** 2, [x])
    assert tg.gradgradcheck(lambda v: F.interpolate(v * v, **kw) ** 2, [x])


# Input positions torch 2.13's nearest picks, recorded from torch: where i * scale is a whole
# number in exact arithmetic but float64 lands just below it (30 -> 22 at i = 11: 15, not 14),
# where torch's float32 decides (31 * 1.3 at i = 39: 30), and torch's shortcuts (an output as long
# as the input copies it, whatever the scale factor; one twice as long takes i // 2).
TORCH_PICKS = [
    ((1, 1, 1, 30), {"size": (1, 22)},
     [0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 15, 16, 17, 19, 20, 21, 23, 24, 25, 27, 28]),
    ((1, 1, 1, 31), {"scale_factor": (1.0, 1.3)},
     [0, 0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 10, 10, 11, 12, 13, 13, 14, 15, 16, 16, 17, 18, 19,
      20, 20, 21, 22, 23, 23, 24, 25, 26, 26, 27, 28, 29, 30]),
    ((1, 1, 3, 2), {"scale_factor": 1.1}, [0, 1, 2, 3, 4, 5]),
    ((1, 1, 5, 1), {"scale_factor": (2.1, 1.0)}, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]),
    ((1, 1, 26, 1), {"size": (46, 1)},
     [0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6, 7, 7, 8, 9, 9, 10, 10, 11, 11, 12, 13, 13, 14, 14, 15,
      15, 16, 16, 17, 18, 18, 19, 19, 20, 20, 21, 22, 22, 23, 23, 24, 24, 25]),
]


@pytest.mark.parametrize("shape, kw, picks", TORCH_PICKS)
def test_interpolate_picks_the_pixels_torch_picks(shape, kw, picks):
    positions = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    assert F.interpolate(t64(positions), **kw).numpy().ravel().tolist() == picks


def test_integer_upsampling_gradient_is_the_block_sum():
    g = np.random.default_rng(3).standard_normal((2, 3, 8, 6))
    x = t64(np.zeros((2, 3, 4, 2)), grad=True)
    (F.interpolate(x, scale_factor=(2, 3)) * t64(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), g.reshape(2, 3, 4, 2, 2, 3).sum(axis=(3, 5)))


def np_linear(a, out, scales, align_corners):
    """torch's linear resizing written out point by point (float64): along each dim, output i
    reads src = (i + 0.5) * scale - 0.5 clamped at 0 (or i * (n - 1) / (o - 1) with
    align_corners), between neighbours floor(src) and floor(src) + 1 (the last index repeats)."""
    for axis, (o, scale) in enumerate(zip(out, scales), start=2):
        n = a.shape[axis]
        moved = np.moveaxis(a, axis, -1)
        result = np.zeros(moved.shape[:-1] + (o,))
        for i in range(o):
            if align_corners:
                src = i * (n - 1) / (o - 1) if o > 1 else 0.0
            else:
                src = max((i + 0.5) * scale - 0.5, 0.0)
            lo = min(int(math.floor(src)), n - 1)
            hi = min(lo + 1, n - 1)
            t = src - lo
            result[..., i] = (1 - t) * moved[..., lo] + t * moved[..., hi]
        a = np.moveaxis(result, -1, axis)
    return a


@pytest.mark.parametrize("mode, shape", [("linear", (2, 3, 5)), ("bilinear", (2, 2, 4, 5)),
                                         ("trilinear", (1, 2, 3, 2, 4))])
@pytest.mark.parametrize("kw", [{"scale_factor": 2}, {"scale_factor": 0.6}, {"size": 7},
                                {"scale_factor": 1.7, "recompute_scale_factor": True},
                                {"size": 1}, {"size": 3, "align_corners": True},
                                {"scale_factor": 2.5, "align_corners": True}])
def test_interpolate_linear_modes_match_the_definition_and_have_gradients(mode, shape, kw):
    a = np.random.default_rng(5).standard_normal(shape)
    spatial = shape[2:]
    if "size" in kw:
        out = [kw["size"]] * len(spatial)
        scales = [n / o for n, o in zip(spatial, out)]
    else:
        out = [math.floor(n * kw["scale_factor"]) for n in spatial]
        scales = [n / o if kw.get("recompute_scale_factor") else 1 / kw["scale_factor"]
                  for n, o in zip(spatial, out)]
    expected = np_linear(a, out, scales, kw.get("align_corners", False))
    np.testing.assert_allclose(F.interpolate(t64(a), mode=mode, **kw).numpy(), expected,
                               rtol=1e-12, atol=1e-12)
    x = t64(a, grad=True)
    assert tg.gradcheck(lambda v: F.interpolate(v, mode=mode, **kw) ** 2, [x])
    assert tg.gradgradcheck(lambda v: F.interpolate(v * v, mode=mode, **kw) ** 2, [x])


def test_interpolate_values_recorded_from_torch():
    corners = t64([[[[0.0, 1.0], [2.0, 3.0]]]])
    np.testing.assert_allclose(F.interpolate(corners, size=(4, 4), mode="bilinear").numpy()[0, 0],
                               [[0, .25, .75, 1], [.5, .75, 1.25, 1.5], [1.5, 1.75, 2.25, 2.5],
                                [2, 2.25, 2.75, 3]])
    np.testing.assert_allclose(
        F.interpolate(corners, size=3, mode="bilinear", align_corners=True).numpy()[0, 0],
        [[0, .5, 1], [1, 1.5, 2], [2, 2.5, 3]])
    row = t64(np.arange(5.0).reshape(1, 1, 5))
    assert F.interpolate(row, size=3, mode="nearest-exact").numpy().ravel().tolist() == [0, 2, 4]
    assert F.interpolate(row, size=3, mode="nearest").numpy().ravel().tolist() == [0, 1, 3]
    assert F.interpolate(row, size=2, mode="area").numpy().ravel().tolist() == [1, 3]


def test_area_mode_is_adaptive_average_pooling():
    a = np.random.default_rng(6).standard_normal((2, 3, 7, 5))
    np.testing.assert_allclose(F.interpolate(t64(a), size=(3, 4), mode="area").numpy(),
                               F.adaptive_avg_pool2d(t64(a), (3, 4)).numpy())
    assert F.interpolate(tg.zeros(1, 2, 6), scale_factor=0.5, mode="area").shape == (1, 2, 3)


def test_bilinear_keeps_float32():
    y = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)(tg.zeros(1, 2, 3, 3))
    assert y.dtype == np.float32 and y.shape == (1, 2, 6, 6)


def test_layers_build_an_upsampling_generator_block():
    block = nn.Sequential(nn.Upsample(scale_factor=2), nn.ReflectionPad2d(1), nn.Conv2d(4, 2, 3),
                          nn.ZeroPad2d((0, 1, 0, 1)), nn.ReplicationPad2d(1), nn.ConstantPad2d(1, -1.0))
    y = block(tg.randn(3, 4, 5, 5))
    assert y.shape == (3, 2, 15, 15)
    assert (y.numpy()[:, :, 0, :] == -1.0).all()
    y.sum().backward()
    assert block[2].weight.grad is not None
    assert "scale_factor=2" in repr(block) and "padding=(1, 1, 1, 1)" in repr(block)


@pytest.mark.parametrize("call, error, needle", [
    (lambda x: F.pad(x, (1,)), ShapeError, "even number"),
    (lambda x: F.pad(x, (1, 1) * 5), ShapeError, "at most 8"),
    (lambda x: F.pad(x, (1.5, 1)), InputTypeError, "sequence of ints"),
    (lambda x: F.pad(x, (1, 1), "wrap"), ConfigError, "mode must be one of"),
    (lambda x: F.pad(x, (3, 0, 0, 0), "reflect"), ShapeError, "more than 3 elements in dim 3"),
    (lambda x: F.pad(x, (4, 0, 0, 0), "circular"), ShapeError, "at least 4 elements in dim 3"),
    (lambda x: F.pad(x, (-2, -1, -2, -1), "reflect"), ShapeError, "leaves no element"),  # (as torch's)
    (lambda x: F.pad(x, (1, 1), "reflect"), NotImplementedError, "padding size 2 is not supported"),
    (lambda x: F.pad(x, (-2, -2)), ShapeError, "crops more than all"),  # (-2, -1): empty, as torch
    (lambda x: F.interpolate(x[:, :, 0], scale_factor=2, mode="bicubic"), ShapeError, "4-D input"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="trilinear"), ShapeError, "5-D input"),
    (lambda x: F.interpolate(x, scale_factor=2, align_corners=True), ConfigError, "linear modes"),
    (lambda x: F.interpolate(x, size=2, recompute_scale_factor=True), ConfigError, "goes with"),
    (lambda x: nn.Upsample(scale_factor=2, mode="cubic")(x), ConfigError, "mode must be one of"),  # (when called)
    (lambda x: F.interpolate(x), ConfigError, "exactly one of size and scale_factor"),
    (lambda x: F.interpolate(x, size=(2, 2, 2)), InputTypeError, "size must be one int or 2"),
    (lambda x: F.interpolate(x, scale_factor=0.1), ShapeError, "empty output"),
    (lambda x: F.interpolate(x[0, 0], scale_factor=2), ShapeError, "interpolate: input must be"),
    (lambda x: nn.Upsample(scale_factor=2, size=3)(x), ConfigError, "exactly one"),  # (when called, as torch)
    (lambda x: nn.ZeroPad2d((1, 2)), ConfigError, "left, right, top, bottom"),
    (lambda x: nn.ZeroPad2d(1.5), ConfigError, "left, right, top, bottom"),
    (lambda x: nn.ConstantPad2d(1, "a"), InputTypeError, "value must be a real number"),
    (lambda x: nn.Upsample(scale_factor=-1)(x), WindowArgError, "scale_factor must be positive"),
    (lambda x: nn.Upsample(size=(2, 0))(x), ShapeError, "size must be >= 1"),
    (lambda x: F.pad(x, None), InputTypeError, "sequence of ints"),
    (lambda x: F.pad(x, 1.5), InputTypeError, "sequence of ints"),
    (lambda x: F.interpolate(x, scale_factor=1e308), ConfigError, "positive and finite"),
])
def test_bad_arguments_are_named(call, error, needle):
    with pytest.raises(error, match=needle):
        call(tg.zeros(1, 2, 3, 3))
