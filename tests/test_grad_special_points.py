"""Values and gradients at special points (ties, zeros, bounds, NaN) follow torch's rules:
ops that return indices route the gradient through them; all-element order statistics share it
among ties; kinks take torch's one-sided choice.  Expected values by hand or from NumPy."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import ShapeError


def _grad(fn, *arrays):
    xs = [tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*xs)
    out.backward(tg.ones_like(out))
    return [x.grad.numpy() for x in xs]


# -- ops that return indices: the gradient goes to the returned index only -------------------
def test_max_dim_with_ties_sends_the_gradient_to_the_returned_index():
    a = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [5.0, 5.0, 5.0]]
    x = tg.tensor(a, requires_grad=True)
    values, indices = x.max(1)
    assert indices.tolist() == [1, 0, 0] and values.grad_fn.name() == "MaxBackward0"
    (values * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    expected = np.zeros((3, 3))
    expected[[0, 1, 2], [1, 0, 0]] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_min_dim_keepdim_with_ties_and_nan():
    x = tg.tensor([[2.0, 1.0, 1.0], [4.0, math.nan, 3.0]], requires_grad=True)
    values, indices = x.min(1, keepdim=True)
    assert values.shape == (2, 1) and indices.tolist() == [[1], [1]]
    assert math.isnan(values[1, 0].item())
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])


def test_max_dim_gradient_of_gradient_goes_through_the_index():
    x = tg.tensor([[3.0, 2.0], [3.0, 1.0]], requires_grad=True)
    (g,) = tg.autograd.grad((x.max(0).values ** 2).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [[6.0, 4.0], [0.0, 0.0]])
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 2.0], [0.0, 0.0]])


def test_max_dim_of_integers_gives_values_and_indices():
    values, indices = tg.tensor([[1, 5, 5], [7, 0, 7]]).max(1)
    assert values.tolist() == [5, 7] and indices.tolist() == [1, 0] and values.dtype == np.int64


def test_max_dim_over_an_empty_dim_is_refused():
    with pytest.raises(ShapeError):
        tg.zeros(0, 2).max(0)


# -- all-element extremes and medians: ties share it evenly (NaNs when the result is NaN) -----
def test_max_of_all_with_nan_sends_the_gradient_to_the_nans():
    [g] = _grad(lambda x: x.max(), [1.0, math.nan, 3.0, math.nan])
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.0, 0.5])
    [g] = _grad(lambda x: x.min(), [1.0, math.nan, 3.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


def test_median_of_all_shares_the_gradient_among_ties():
    [g] = _grad(lambda x: x.median(), [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    [g] = _grad(lambda x: x.nanmedian(), [2.0, math.nan, 2.0, 5.0])
    np.testing.assert_array_equal(g, [0.5, 0.0, 0.5, 0.0])
    assert tg.tensor([3, 1, 2]).median().item() == 2


# -- kinks and zeros ------------------------------------------------------------------------
def test_std_of_constant_values_has_gradient_zero():
    [g] = _grad(lambda x: x.std(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    [g] = _grad(lambda x: x.std(1), [[2.0, 2.0], [1.0, 3.0]])
    np.testing.assert_allclose(g, [[0.0, 0.0], [-1 / math.sqrt(2), 1 / math.sqrt(2)]], rtol=1e-12)
    [g] = _grad(lambda x: x.std(), [4.0])          # n - 1 = 0: NaN, as torch
    assert np.isnan(g).all()


def test_lp_pool_of_an_all_zero_window_has_gradient_zero():
    [g] = _grad(lambda x: F.lp_pool1d(x, 2.0, 2), [[[3.0, 4.0, 0.0, 0.0]]])
    np.testing.assert_allclose(g, [[[0.6, 0.8, 0.0, 0.0]]], rtol=1e-12)
    [g] = _grad(lambda x: F.lp_pool2d(x, 2.0, 2), np.zeros((1, 1, 2, 2)))
    np.testing.assert_array_equal(g, np.zeros((1, 1, 2, 2)))


def test_atan2_at_the_origin_has_gradient_zero():
    gy, gx = _grad(tg.atan2, [0.0, 1.0], [0.0, 1.0])
    np.testing.assert_allclose(gy, [0.0, 0.5], rtol=1e-12)
    np.testing.assert_allclose(gx, [0.0, -0.5], rtol=1e-12)


def test_cdist_inf_gives_every_tied_coordinate_the_full_gradient():
    g1, g2 = _grad(lambda a, b: tg.cdist(a, b, p=math.inf), [[0.0, 0.0, 0.0]], [[1.0, -1.0, 0.5]])
    np.testing.assert_array_equal(g1, [[-1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(g2, [[1.0, -1.0, 0.0]])
    out = tg.cdist(tg.tensor([[0.0, 0.0]]), tg.tensor([[3.0, -4.0]]), p=math.inf)
    assert out.tolist() == [[4.0]]


def test_clamp_to_equal_tensor_bounds_gives_the_bounds_no_gradient():
    gx, glo, ghi = _grad(tg.clamp, [0.0, 1.0, 2.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(gx, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(glo, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ghi, [0.0, 0.0, 1.0])
    gx, glo, ghi = _grad(tg.clamp, [0.0, 0.5], [1.0, 0.0], [2.0, 1.0])   # min < max: min's
    np.testing.assert_array_equal(glo, [1.0, 0.0])


def test_bce_with_logits_pos_weight_at_zero_logit():
    x = tg.tensor([0.0, 0.0, 1.0], dtype=tg.float64, requires_grad=True)
    t = tg.tensor([1.0, 0.0, 0.0], dtype=tg.float64)
    pw = tg.tensor([2.0, 3.0, 1.0], dtype=tg.float64)
    F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="sum").backward()
    # d/dx [(1 - t) x + (1 + (p - 1) t) softplus(-x)] = (1 - t) - (1 + (p - 1) t) sigmoid(-x)
    sig = 1 / (1 + np.exp(np.array([0.0, 0.0, 1.0])))
    np.testing.assert_allclose(x.grad.numpy(), [-2 * sig[0], 1 - sig[1], 1 - sig[2]],
                               rtol=1e-12)
    assert x.grad.numpy()[0] == -1.0


def test_sign_of_nan_is_zero():
    x = tg.tensor([math.nan, -2.0, 0.0, 3.0])
    assert x.sign().tolist() == [0.0, -1.0, 0.0, 1.0]


def test_eigvalsh_and_svdvals_gradients_are_finite_on_repeated_values():
    [g] = _grad(tg.linalg.eigvalsh, np.eye(3))
    np.testing.assert_allclose(g, np.eye(3), atol=1e-12)
    [g] = _grad(tg.linalg.svdvals, 2 * np.eye(2))
    np.testing.assert_allclose(g, np.eye(2), atol=1e-12)


# -- torch's forms: round(decimals=), norm('nuc'), lerp's two-sided formula, masked_fill ----
def test_round_decimals_method():
    x = tg.tensor([1.25, 2.35, -0.051], dtype=tg.float64, requires_grad=True)
    y = x.round(decimals=1)
    np.testing.assert_allclose(y.detach().numpy(), np.round(x.detach().numpy() * 10) / 10)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_norm_nuc():
    a = np.array([[3.0, 0.0], [4.0, 5.0]])
    x = tg.tensor(a, requires_grad=True)
    n = x.norm(p="nuc")
    np.testing.assert_allclose(n.item(), np.linalg.svd(a, compute_uv=False).sum(), rtol=1e-12)
    n.backward()
    u, _, vh = np.linalg.svd(a)
    np.testing.assert_allclose(x.grad.numpy(), u @ vh, rtol=1e-10, atol=1e-12)
    with pytest.raises(ShapeError):
        tg.ones(2, 2, 2).norm(p="nuc")


def test_lerp_uses_the_end_anchored_form_from_weight_one_half():
    start = tg.tensor([0.1, 0.0], dtype=tg.float64)
    end = tg.tensor([0.3, math.inf], dtype=tg.float64)
    assert start.lerp(end, 1.0).tolist()[0] == 0.3        # 0.1 + 0.2 * 1 would be 0.30000000000000004
    assert math.isnan(start.lerp(end, 0.75).tolist()[1])  # inf - inf * 0.25, as torch
    w = tg.tensor([1.0, 0.25], dtype=tg.float64)
    out = start.lerp(end, w).tolist()
    assert out[0] == 0.3 and out[1] == math.inf
    acc = tg.tensor([0.1], dtype=tg.float64)
    acc.lerp_(tg.tensor([0.3], dtype=tg.float64), 1.0)
    assert acc.tolist() == [0.3]


def test_masked_fill_refuses_a_value_tensor_with_dims():
    x = tg.zeros(3)
    mask = tg.tensor([True, False, True])
    with pytest.raises(ShapeError, match="0-d"):
        x.masked_fill(mask, tg.tensor([1.0]))
    with pytest.raises(ShapeError, match="0-d"):
        x.masked_fill_(mask, tg.tensor([1.0]))
    assert x.masked_fill(mask, tg.tensor(2.0)).tolist() == [2.0, 0.0, 2.0]


def test_embedding_max_norm_renormalises_the_looked_up_rows_in_place():
    w = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    weight = tg.tensor(w.copy(), requires_grad=True)
    out = F.embedding(tg.tensor([0, 0, 1]), weight, max_norm=1.0)
    expected = w.copy()
    expected[0] *= 1.0 / (5.0 + 1e-7)                       # row 2 was not looked up: unchanged
    np.testing.assert_allclose(weight.detach().numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(out.detach().numpy(), expected[[0, 0, 1]], rtol=1e-12)
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[2.0, 2.0], [1.0, 1.0], [0.0, 0.0]])
    layer = tg.nn.Embedding(3, 2, max_norm=0.5, norm_type=1.0)
    with tg.no_grad():
        layer.weight[2] = tg.tensor([3.0, -1.0])
    layer(tg.tensor([2]))
    assert abs(np.abs(layer.weight.detach().numpy()[2]).sum() - 0.5) < 1e-6
    assert "max_norm=0.5" in repr(layer)

    a, b = layer(tg.tensor([0, 1])), layer(tg.tensor([1, 2]))   # two lookups, one backward
    (a.sum() + b.sum()).backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), [[1.0, 1.0], [2.0, 2.0], [1.0, 1.0]])


def test_embedding_max_norm_renorm_is_seen_by_an_op_that_saved_the_weight():
    """A tied output layer computed before a lookup renormalises the weight would back-propagate
    through changed values: it refuses, as torch's does; the lookups themselves do not."""
    weight = tg.tensor(np.full((4, 3), 2.0), requires_grad=True)
    logits = tg.ones(2, 3, dtype=tg.float64) @ weight.T            # saves the weight
    rows = F.embedding([0], weight, max_norm=1.0)                  # renorms row 0 in place
    with pytest.raises(tg.AutogradError, match="modified in place"):
        (logits.sum() + rows.sum()).backward()
