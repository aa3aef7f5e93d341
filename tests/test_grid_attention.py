"""F.affine_grid / F.grid_sample (DiffAugment / ADA translation, rotation) and attention
(F.scaled_dot_product_attention, nn.MultiheadAttention) against NumPy loops written from torch's
documentation, plus gradchecks in float64 and refusals."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorgan as tg
import tensorgan.functional as F
from tensorgan import nn
from tensorgan.errors import ConfigError, DTypeError, ShapeError

# the default align_corners is exercised on purpose here; its torch-style warning is tested in
# tests/test_port_nlp.py
pytestmark = pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")


def f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# grid_sample: a per-pixel loop from torch's documentation
# ---------------------------------------------------------------------------------------------
def unnormalize(g, size, align_corners):
    return (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2


def reflect(x, size, align_corners):
    """Mirror x into [lo, hi] (pixel centres 0..size-1 with align_corners, edges -0.5..size-0.5
    without), then clip to the pixel centres."""
    lo, hi = (0.0, size - 1.0) if align_corners else (-0.5, size - 0.5)
    if hi == lo:
        return 0.0
    span = hi - lo
    d = abs(x - lo) % (2 * span)
    x = lo + (d if d <= span else 2 * span - d)
    return min(max(x, 0.0), size - 1.0)


def source(g, size, padding_mode, align_corners):
    x = unnormalize(g, size, align_corners)
    if padding_mode == "border":
        return min(max(x, 0.0), size - 1.0)
    if padding_mode == "reflection":
        return reflect(x, size, align_corners)
    return x


def grid_sample_loop(inp, grid, mode, padding_mode, align_corners):
    n, c, h, w = inp.shape
    _, ho, wo, _ = grid.shape
    out = np.zeros((n, c, ho, wo))

    def pixel(b, yy, xx):
        if 0 <= yy < h and 0 <= xx < w:
            return inp[b, :, yy, xx]
        return np.zeros(c)         # zeros padding; border / reflection never get here
    for b in range(n):
        for i in range(ho):
            for j in range(wo):
                x = source(grid[b, i, j, 0], w, padding_mode, align_corners)
                y = source(grid[b, i, j, 1], h, padding_mode, align_corners)
                if mode == "nearest":
                    out[b, :, i, j] = pixel(b, int(np.rint(y)), int(np.rint(x)))   # half to even
                    continue
                x0, y0 = math.floor(x), math.floor(y)
                tx, ty = x - x0, y - y0
                out[b, :, i, j] = (pixel(b, y0, x0) * (1 - tx) * (1 - ty) + pixel(b, y0, x0 + 1) * tx * (1 - ty)
                                   + pixel(b, y0 + 1, x0) * (1 - tx) * ty + pixel(b, y0 + 1, x0 + 1) * tx * ty)
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4),
       st.integers(1, 4), st.sampled_from(["bilinear", "nearest"]),
       st.sampled_from(["zeros", "border", "reflection"]), st.booleans(), st.booleans(), st.integers(0, 2 ** 31))
def test_grid_sample_matches_the_loop(n, c, h, w, ho, wo, mode, padding_mode, align_corners, on_grid, seed):
    rng = np.random.default_rng(seed)
    inp = rng.standard_normal((n, c, h, w))
    grid = rng.uniform(-3, 3, (n, ho, wo, 2))
    if on_grid:     # exact pixel centres, borders, and halfway points (nearest's ties)
        grid = np.round(grid * 4) / 4
    out = F.grid_sample(f64(inp), f64(grid), mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    expected = grid_sample_loop(inp, grid, mode, padding_mode, align_corners)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_nearest_rounds_half_to_even():
    inp = np.arange(5.0).reshape(1, 1, 1, 5)
    # align_corners=True: x = (g + 1) * 2, so g = -0.75 -> 0.5, -0.25 -> 1.5, 0.25 -> 2.5
    grid = np.array([[[[-0.75, 0.0], [-0.25, 0.0], [0.25, 0.0]]]])
    out = F.grid_sample(f64(inp), f64(grid), mode="nearest", align_corners=True)
    assert out.numpy().ravel().tolist() == [0.0, 2.0, 2.0]


@pytest.mark.parametrize("dx,dy", [(1, 0), (-2, 1), (0, -3), (3, 2)])
def test_whole_pixel_translation_is_a_roll_with_zero_fill(dx, dy):
    """DiffAugment's translation: affine_grid with a shift of 2 * d / size, bilinear, zeros."""
    rng = np.random.default_rng(0)
    n, c, h, w = 2, 3, 6, 7
    x = rng.standard_normal((n, c, h, w))
    theta = np.tile(np.array([[1.0, 0.0, -2.0 * dx / w], [0.0, 1.0, -2.0 * dy / h]]), (n, 1, 1))
    grid = F.affine_grid(f64(theta), (n, c, h, w), align_corners=False)
    out = F.grid_sample(f64(x), grid, padding_mode="zeros", align_corners=False).numpy()
    expected = np.zeros_like(x)
    ys, xs = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
    expected[..., ys, xs] = np.roll(x, (dy, dx), axis=(2, 3))[..., ys, xs]
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_identity_grid_copies_the_input():
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 4))
    for align_corners in (False, True):
        grid = F.affine_grid(f64(np.tile(np.eye(2, 3), (2, 1, 1))), (2, 3, 5, 4), align_corners=align_corners)
        for mode in ("bilinear", "nearest"):
            out = F.grid_sample(f64(x), grid, mode=mode, align_corners=align_corners)
            np.testing.assert_allclose(out.numpy(), x, atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_is_theta_times_the_pixel_positions(align_corners):
    rng = np.random.default_rng(2)
    theta = rng.standard_normal((2, 2, 3))
    n, h, w = 2, 3, 5

    def positions(k):
        if k == 1:
            return np.zeros(1)
        p = np.linspace(-1, 1, k)
        return p if align_corners else p * (k - 1) / k      # pixel centres
    out = F.affine_grid(f64(theta), (n, 4, h, w), align_corners=align_corners).numpy()
    xs, ys = positions(w), positions(h)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                np.testing.assert_allclose(out[b, i, j], theta[b] @ [xs[j], ys[i], 1.0], atol=1e-14)
    assert F.affine_grid(f64(theta), (n, 1, 1, 1)).numpy()[:, 0, 0].tolist() == theta[:, :, 2].tolist()


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_gradients(padding_mode, align_corners):
    rng = np.random.default_rng(3)
    x = f64(rng.standard_normal((2, 2, 4, 5)), True)
    grid = f64(rng.uniform(-1.4, 1.4, (2, 3, 3, 2)), True)

    def bilinear(a, g):
        return F.grid_sample(a, g, padding_mode=padding_mode, align_corners=align_corners)
    assert tg.gradcheck(bilinear, [x, grid])
    assert tg.gradgradcheck(bilinear, [x, grid])
    nearest = F.grid_sample(x, grid, mode="nearest", padding_mode=padding_mode, align_corners=align_corners)
    nearest.sum().backward()
    assert np.array_equal(grid.grad.numpy(), np.zeros(grid.shape))      # torch's: 0, not None
    assert tg.gradcheck(lambda a: F.grid_sample(a, grid, mode="nearest", padding_mode=padding_mode), [x])


def test_grid_gradient_is_zero_where_clipped_as_torch():
    """Border padding: a coordinate clipped to the edge -- or exactly on it -- moves nothing."""
    x = f64(np.arange(12.0).reshape(1, 1, 3, 4))
    grid = f64([[[[-1.5, 0.0], [1.0, 0.0], [0.2, 0.0]]]], True)
    F.grid_sample(x, grid, padding_mode="border", align_corners=True).sum().backward()
    assert grid.grad.numpy()[0, 0, :, 0].tolist() == [0.0, 0.0, 1.5]       # d x / d g = (W - 1) / 2


def test_affine_grid_gradients():
    rng = np.random.default_rng(4)
    theta = f64(rng.standard_normal((2, 2, 3)), True)
    x = f64(rng.standard_normal((2, 1, 4, 3)))
    assert tg.gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4)), [theta])
    assert tg.gradgradcheck(lambda t: F.grid_sample(x, F.affine_grid(t, (2, 1, 3, 4)), padding_mode="reflection"),
                            [theta])


def test_grid_sample_empty_and_non_finite():
    assert F.grid_sample(f64(np.zeros((2, 0, 3, 3))), f64(np.zeros((2, 4, 5, 2)))).shape == (2, 0, 4, 5)
    assert F.grid_sample(f64(np.zeros((0, 2, 3, 3))), f64(np.zeros((0, 4, 5, 2)))).shape == (0, 2, 4, 5)
    x = np.ones((1, 1, 3, 3))
    x[0, 0, 0, 0] = np.inf                  # outside reads are masked reads: never 0 * inf
    out = F.grid_sample(f64(x), f64([[[[0.9, 0.9]]]]))
    assert np.isfinite(out.numpy()).all()
    nan_grid = f64([[[[np.nan, 0.0]]]])
    assert F.grid_sample(f64(x), nan_grid, mode="nearest").numpy().ravel().tolist() == [0.0]
    assert F.grid_sample(f64(x), nan_grid, padding_mode="border").numpy().ravel().tolist() == [1.0]  # NaN clips to 0


def test_grid_sample_refusals():
    x, grid = f64(np.zeros((2, 1, 3, 3))), f64(np.zeros((2, 2, 2, 2)))
    with pytest.raises(ConfigError, match="mode must be one of"):
        F.grid_sample(x, grid, mode="lanczos")
    with pytest.raises(ConfigError, match="padding_mode"):
        F.grid_sample(x, grid, padding_mode="circular")
    with pytest.raises(ShapeError, match=r"\(3, 2, 2, 2\)"):
        F.grid_sample(x, f64(np.zeros((3, 2, 2, 2))))
    with pytest.raises(ShapeError, match="non-empty"):
        F.grid_sample(f64(np.zeros((2, 1, 0, 3))), grid)
    with pytest.raises(ShapeError, match="5-D"):
        F.grid_sample(f64(np.zeros((2, 1, 3, 3, 3))), grid)
    with pytest.raises(DTypeError):
        F.grid_sample(x, grid.float())
    with pytest.raises(ShapeError, match=r"\(2, 2, 3\)"):
        F.affine_grid(f64(np.zeros((2, 3, 4))), (2, 1, 3, 3))
    with pytest.raises(ShapeError, match="positive"):
        F.affine_grid(f64(np.zeros((2, 2, 3))), (2, 0, 3, 3))
    with pytest.raises(ShapeError, match=r"3D affine matrices of shape \(2, 3, 4\)"):
        F.affine_grid(f64(np.zeros((2, 2, 3))), (2, 1, 3, 3, 3))


# ---------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------------------------
def attention_loop(q, k, v, allowed, scale):
    """softmax(q k^T * scale) v per batch element and query row, over the allowed keys only
    (a row with none gives zeros)."""
    out = np.zeros(q.shape[:-1] + (v.shape[-1],))
    for idx in np.ndindex(q.shape[:-2]):
        for i in range(q.shape[-2]):
            keys = [j for j in range(k.shape[-2]) if allowed[idx + (i, j)]]
            if not keys:
                continue
            s = np.array([q[idx + (i,)] @ k[idx + (j,)] * scale for j in keys])
            p = np.exp(s - s.max())
            p /= p.sum()
            out[idx + (i,)] = sum(pj * v[idx + (j,)] for pj, j in zip(p, keys))
    return out


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.sampled_from(["none", "bool", "causal"]), st.booleans(), st.integers(0, 2 ** 31))
def test_sdpa_matches_the_loop(b, length, source, e, ev, masking, scaled, seed):
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((b, 2, length, e)), rng.standard_normal((b, 2, source, e)), \
        rng.standard_normal((b, 2, source, ev))
    allowed = np.ones((b, 2, length, source), bool)
    kwargs = {"scale": 0.3} if scaled else {}
    if masking == "bool":
        mask = rng.random((length, source)) < 0.7
        allowed &= mask
        kwargs["attn_mask"] = tg.tensor(mask)
    if masking == "causal":
        allowed &= np.tril(np.ones((length, source), bool))
        kwargs["is_causal"] = True
    out = F.scaled_dot_product_attention(f64(q), f64(k), f64(v), **kwargs)
    expected = attention_loop(q, k, v, allowed, 0.3 if scaled else 1 / math.sqrt(e))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_sdpa_float_mask_is_added_and_gqa_repeats_heads():
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((2, 2, 6, 3))
    bias = rng.standard_normal((3, 6))
    out = F.scaled_dot_product_attention(f64(q), f64(k), f64(v), attn_mask=f64(bias), enable_gqa=True).numpy()
    k4, v4 = np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1)      # torch's repeat_interleave
    s = q @ k4.swapaxes(-1, -2) / math.sqrt(5) + bias
    p = np.exp(s - s.max(-1, keepdims=True))
    np.testing.assert_allclose(out, (p / p.sum(-1, keepdims=True)) @ v4, rtol=1e-12)


def test_sdpa_gradients_and_masked_rows():
    rng = np.random.default_rng(6)
    q, k, v = (f64(rng.standard_normal(s), True) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 2)))
    mask = rng.random((3, 5)) < 0.6
    mask[1] = False                                     # a row with nothing to attend to
    m = tg.tensor(mask)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    assert out.numpy()[:, 1].tolist() == [[0.0, 0.0]] * 2
    assert tg.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=m), [q, k, v])
    assert tg.gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), [q, k, v])
    out.sum().backward()
    assert np.array_equal(q.grad.numpy()[:, 1], np.zeros((2, 4)))


def test_sdpa_dropout_draws_from_tensorgan_generator():
    rng = np.random.default_rng(7)
    q, k, v = (f64(rng.standard_normal((2, 6, 4))) for _ in range(3))
    tg.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    tg.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    assert np.array_equal(a, b)
    assert not np.allclose(a, F.scaled_dot_product_attention(q, k, v).numpy())


def test_sdpa_refusals():
    q = f64(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="at least 2-D"):
        F.scaled_dot_product_attention(f64(np.zeros(4)), q, q)
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\), \(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, f64(np.zeros((2, 3, 5))), q)
    with pytest.raises(ConfigError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.tensor(np.ones((3, 3), bool)), is_causal=True)
    with pytest.raises(ShapeError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.tensor(np.ones((2, 2), bool)))
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    with pytest.raises(ShapeError, match="multiple"):
        F.scaled_dot_product_attention(f64(np.zeros((1, 3, 2, 4))), f64(np.zeros((1, 2, 2, 4))),
                                       f64(np.zeros((1, 2, 2, 4))), enable_gqa=True)


# ---------------------------------------------------------------------------------------------
# MultiheadAttention
# ---------------------------------------------------------------------------------------------
def mha_reference(mod, q, k, v, key_padding_mask=None, attn_mask=None):
    """torch's documented computation on (L, N, E) arrays: per head h, softmax(Q_h K_h^T /
    sqrt(d) + masks) V_h, heads concatenated, then out_proj; bool masks: True = not attended."""
    sd = {name: p.numpy() for name, p in mod.state_dict().items()}
    e, heads = mod.embed_dim, mod.num_heads
    d = e // heads
    w = sd.get("in_proj_weight")
    wq, wk, wv = np.split(w, 3) if w is not None else (sd["q_proj_weight"], sd["k_proj_weight"], sd["v_proj_weight"])
    bq, bk, bv = np.split(sd["in_proj_bias"], 3)
    Q, K, V = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    length, n, _ = q.shape
    source = k.shape[0]
    out = np.zeros((length, n, e))
    weights = np.zeros((n, heads, length, source))
    for b in range(n):
        for h in range(heads):
            cols = slice(h * d, (h + 1) * d)
            s = Q[:, b, cols] @ K[:, b, cols].T / math.sqrt(d)
            if attn_mask is not None:
                s = np.where(attn_mask, -np.inf, s) if attn_mask.dtype == bool else s + attn_mask
            if key_padding_mask is not None:
                s = np.where(key_padding_mask[b][None, :], -np.inf, s)
            p = np.exp(s - s.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            weights[b, h] = p
            out[:, b, cols] = p @ V[:, b, cols]
    return out @ sd["out_proj.weight"].T + sd["out_proj.bias"], weights


def test_mha_parameters_names_shapes_and_init():
    m = nn.MultiheadAttention(8, 2)
    assert list(m.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert m.in_proj_weight.shape == (24, 8) and m.in_proj_bias.shape == (24,)
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear" and m.head_dim == 4
    bound = math.sqrt(6.0 / (8 + 24))                  # xavier_uniform_ on (3E, E)
    assert np.abs(m.in_proj_weight.numpy()).max() <= bound and np.abs(m.in_proj_weight.numpy()).max() > bound / 2
    assert not m.in_proj_bias.numpy().any() and not m.out_proj.bias.numpy().any()
    m2 = nn.MultiheadAttention(6, 3, bias=False, add_bias_kv=True, kdim=4, vdim=5)
    assert {k: v.shape for k, v in m2.state_dict().items()} == {
        "q_proj_weight": (6, 6), "k_proj_weight": (6, 4), "v_proj_weight": (6, 5),
        "bias_k": (1, 1, 6), "bias_v": (1, 1, 6), "out_proj.weight": (6, 6)}
    assert m2.in_proj_weight is None and m2.in_proj_bias is None
    with pytest.raises(ConfigError, match="divisible"):
        nn.MultiheadAttention(7, 2)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("separate", [False, True])
def test_mha_matches_the_reference(batch_first, separate):
    rng = np.random.default_rng(8)
    kdim = 3 if separate else None
    m = nn.MultiheadAttention(6, 2, kdim=kdim, vdim=kdim, batch_first=batch_first, dtype=tg.float64)
    m.load_state_dict({k: rng.standard_normal(v.shape) for k, v in m.state_dict().items()})
    q = rng.standard_normal((4, 2, 6))
    k, v = rng.standard_normal((5, 2, kdim or 6)), rng.standard_normal((5, 2, kdim or 6))
    kpm = np.zeros((2, 5), bool)
    kpm[0, 1] = kpm[1, 4] = True
    attn = rng.standard_normal((4, 5))
    expected, weights = mha_reference(m, q, k, v, kpm, attn)
    lay = (lambda a: a.transpose(1, 0, 2)) if batch_first else (lambda a: a)
    for need in (True, False):
        out, w = m(f64(lay(q)), f64(lay(k)), f64(lay(v)), key_padding_mask=tg.tensor(kpm),
                   attn_mask=f64(attn), need_weights=need)
        np.testing.assert_allclose(out.numpy(), lay(expected), rtol=1e-10, atol=1e-12)
        if need:
            np.testing.assert_allclose(w.numpy(), weights.mean(1), rtol=1e-10, atol=1e-14)
        else:
            assert w is None
    _, w = m(f64(lay(q)), f64(lay(k)), f64(lay(v)), average_attn_weights=False, attn_mask=tg.tensor(attn > 1))
    np.testing.assert_allclose(w.numpy(), mha_reference(m, q, k, v, attn_mask=attn > 1)[1], rtol=1e-10)


def test_mha_unbatched_self_attention_and_gradients():
    rng = np.random.default_rng(9)
    m = nn.MultiheadAttention(4, 2, dtype=tg.float64)
    x = rng.standard_normal((3, 4))
    out, w = m(f64(x), f64(x), f64(x))
    expected, weights = mha_reference(m, x[:, None], x[:, None], x[:, None])
    np.testing.assert_allclose(out.numpy(), expected[:, 0], rtol=1e-10, atol=1e-13)
    assert w.shape == (3, 3)
    xt = f64(rng.standard_normal((3, 2, 4)), True)
    causal = tg.tensor(np.triu(np.ones((3, 3), bool), 1))
    assert tg.gradcheck(lambda a: m(a, a, a, attn_mask=causal, is_causal=True)[0], [xt])
    assert tg.gradgradcheck(lambda a: m(a, a, a, need_weights=False)[0], [xt])
    m(xt, xt, xt)[0].sum().backward()
    assert all(p.grad is not None for p in m.parameters())


def test_mha_bias_kv_and_zero_attn_add_keys():
    rng = np.random.default_rng(10)
    m = nn.MultiheadAttention(4, 1, add_bias_kv=True, add_zero_attn=True, dtype=tg.float64)
    x = f64(rng.standard_normal((3, 2, 4)))
    _, w = m(x, x, x)
    assert w.shape == (2, 3, 5)                 # 3 keys + bias_k + the zero key
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0)


def test_mha_refusals():
    m = nn.MultiheadAttention(4, 2)
    x = tg.randn(3, 2, 4)
    with pytest.raises(ConfigError, match="needs attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ShapeError, match="4 features"):
        m(x, tg.randn(3, 2, 5), tg.randn(3, 2, 5))
    with pytest.raises(ShapeError, match=r"attn_mask must be \(L, S\)"):
        m(x, x, x, attn_mask=tg.randn(2, 3))
    with pytest.raises(ShapeError, match="key_padding_mask"):
        m(x, x, x, key_padding_mask=tg.tensor(np.zeros((2, 4), bool)))
    with pytest.raises(DTypeError):
        m(x.double(), x.double(), x.double())
