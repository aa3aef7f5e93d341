"""Bad-argument validation of nn.functional and nn modules beside torch 2.13 (session 31, h31t):
what torch refuses is refused with a typed error naming the argument, never silent garbage."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeNotImplementedError, FunctionalOptionError, ShapeError


# --- normalization parameters: torch's exact shapes, not only the element count ---------------
@pytest.mark.parametrize("call", [
    lambda: F.layer_norm(tg.randn(2, 3, 3), (3, 3), tg.ones(9)),
    lambda: F.layer_norm(tg.randn(2, 3, 3), (3, 3), None, tg.zeros(9)),
    lambda: F.layer_norm(tg.randn(3, 3), (3, 3), tg.ones(9)),            # the composite path
    lambda: F.rms_norm(tg.randn(2, 3, 3), (3, 3), tg.ones(9)),
    lambda: F.group_norm(tg.randn(2, 6, 4), 3, tg.ones(2, 3)),
    lambda: F.group_norm(tg.randn(2, 6, 4), 3, None, tg.ones(6, 1)),
    lambda: F.instance_norm(tg.randn(2, 3, 4), weight=tg.ones(1, 3)),
])
def test_norm_weight_and_bias_of_equal_size_but_another_shape_are_refused(call):
    with pytest.raises(ShapeError, match=r"must be a tensor of \d+ elements of shape"):
        call()


def test_norm_parameters_of_the_right_shape_still_apply():
    x = tg.randn(2, 3, 3, dtype=tg.float64)
    w = tg.tensor(np.arange(9.0).reshape(3, 3))
    y = F.layer_norm(x, (3, 3), w, w)
    ref = F.layer_norm(x, (3, 3)).numpy() * w.numpy() + w.numpy()
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    assert F.group_norm(tg.randn(2, 6, 4), 3, tg.ones(6), tg.zeros(6)).shape == (2, 6, 4)
    assert F.rms_norm(tg.randn(2, 3), (3,), tg.ones(3)).shape == (2, 3)


def test_rms_norm_of_an_integer_tensor_is_torchs_not_implemented():
    with pytest.raises(DTypeNotImplementedError, match="rms_norm"):   # was NumPy's 'not inexact'
        F.rms_norm(tg.tensor([[1, 2, 3]]), (3,))


def test_cross_entropy_of_integer_logits_is_refused():
    # Function.apply computed them in float32: torch refuses ("not implemented for 'Long'")
    with pytest.raises(DTypeNotImplementedError, match="cross_entropy"):
        F.cross_entropy(tg.tensor([[1, 2, 3], [0, 1, 0]]), tg.tensor([0, 2]))
    with pytest.raises(DTypeNotImplementedError, match="cross_entropy"):
        tg.nn.CrossEntropyLoss()(tg.tensor([[[1, 2]], [[0, 1]]]), tg.tensor([[0, 0], [0, 0]]))   # (N, C=1, d)


# --- adaptive pools over an empty spatial dim ---------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: F.adaptive_avg_pool2d(tg.randn(1, 2, 0, 4), 2),      # was an empty / NaN result
    lambda: F.adaptive_avg_pool2d(tg.randn(1, 2, 0, 4), 0),
    lambda: F.adaptive_avg_pool1d(tg.randn(1, 2, 0), 2),
    lambda: F.adaptive_avg_pool3d(tg.randn(1, 2, 0, 4, 4), 2),
    lambda: F.adaptive_max_pool2d(tg.randn(1, 2, 0, 4), 2),      # was NumPy's argmax ValueError
    lambda: F.adaptive_max_pool1d(tg.randn(1, 2, 0), 2),
    lambda: F.adaptive_max_pool3d(tg.randn(1, 2, 0, 4, 4), 2),
])
def test_adaptive_pool_of_an_empty_spatial_dim_is_refused(call):
    with pytest.raises(ShapeError, match="non-zero size for non-batch dimensions"):
        call()


def test_adaptive_max_pool_of_an_empty_batch_is_empty():
    # was NumPy's 'cannot reshape array of size 0'; torch gives the empty values and indices
    x = tg.randn(0, 2, 4, 4, requires_grad=True)
    y, i = F.adaptive_max_pool2d(x, 2, return_indices=True)
    assert y.shape == i.shape == (0, 2, 2, 2) and i.dtype == tg.int64
    y.sum().backward()
    assert x.grad.shape == x.shape
    assert F.adaptive_max_pool2d(tg.randn(0, 4, 4), 2).shape == (0, 2, 2)


def test_adaptive_avg_pool_to_one_of_an_empty_dim_is_torchs_mean():
    y = F.adaptive_avg_pool2d(tg.randn(1, 2, 0, 4), 1)      # torch: the mean, NaN, no error
    assert y.shape == (1, 2, 1, 1) and np.isnan(y.numpy()).all()


# --- integer inputs torch does not compute (they were computed in float32) --------------------
def _ints():
    return tg.tensor([1, 0, 1])


def _floats():
    return tg.tensor([0.25, 0.5, 0.75])


@pytest.mark.parametrize("call", [
    lambda: F.nll_loss(tg.tensor([[1, 2, 3]]), tg.tensor([0])),
    lambda: F.kl_div(_ints(), _floats(), reduction="sum"),
    lambda: F.kl_div(_floats(), _ints(), reduction="sum"),
    lambda: F.huber_loss(_ints(), _ints()),
    lambda: F.huber_loss(_ints(), _floats()),
    lambda: F.smooth_l1_loss(_ints(), _ints()),
    lambda: F.hinge_embedding_loss(_ints(), _ints()),
    lambda: F.soft_margin_loss(_ints(), _floats()),
    lambda: F.binary_cross_entropy(_ints(), _ints()),
    lambda: F.binary_cross_entropy_with_logits(_ints(), _floats()),
    lambda: F.unfold(tg.ones(1, 1, 4, 4, dtype=tg.int64), 2),
])
def test_integer_inputs_torch_does_not_implement_are_refused(call):
    with pytest.raises(DTypeNotImplementedError, match="expected a floating-point tensor"):
        call()


def test_integer_operands_torch_promotes_still_compute():
    # a float target beside an integer input (or the reverse) is promoted, as torch's
    assert F.smooth_l1_loss(_ints(), _floats()).dtype == tg.float32
    assert F.huber_loss(_floats(), _ints()).dtype == tg.float32
    assert float(F.hinge_embedding_loss(_ints(), _ints(), reduction="sum")) == 3.0   # (no mean: torch computes it)


def test_pad_value_only_in_constant_mode():
    x = tg.randn(1, 1, 4)
    with pytest.raises(FunctionalOptionError, match="'reflect' doesn't take in value"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)
    assert F.pad(x, (1, 1), mode="reflect", value=0.0).shape == (1, 1, 6)    # torch: 0 is fine
    assert float(F.pad(x, (1, 1), value=2.0)[0, 0, 0]) == 2.0


# --- torch's RuntimeError where tensorgan raised a ValueError only ------------------------------
@pytest.mark.parametrize("call", [
    lambda: F.conv2d(tg.randn(1, 4, 5, 5), tg.randn(4, 4, 3, 3), groups=0),
    lambda: F.conv2d(tg.randn(1, 4, 5, 5), tg.randn(4, 4, 3, 3), stride=(1, 1, 1)),
    lambda: F.max_pool2d(tg.randn(1, 1, 4, 4), (2, 2, 2)),
    lambda: F.unfold(tg.randn(1, 1, 4, 4), (2, 2, 2)),
    lambda: F.adaptive_max_pool1d(tg.randn(1, 2, 4), (2, 2)),
    lambda: F.avg_pool2d(tg.randn(1, 1, 4, 4), 2, divisor_override=0),
    lambda: F.channel_shuffle(tg.randn(1, 6, 2, 2), 4),
    lambda: F.local_response_norm(tg.randn(2, 3, 4), 0),
    lambda: F.batch_norm(tg.randn(4, 3), None, None, training=False),
    lambda: F.embedding_bag(tg.tensor([[0, 3]]), tg.randn(3, 4)),
    lambda: F.embedding_bag(tg.tensor([0, 1, 2]), tg.randn(3, 4), tg.tensor([1, 0])),
    lambda: F.ctc_loss(tg.randn(6, 2, 4).log_softmax(2), tg.ones(2, 3).long(), tg.tensor([6, 6]),
                       tg.tensor([3, 3]), blank=4),
    lambda: F.ctc_loss(tg.randn(6, 2, 4).log_softmax(2), tg.ones(2, 3).long(), tg.tensor([7, 6]),
                       tg.tensor([3, 3])),
    lambda: F.ctc_loss(tg.randn(6, 2, 4).log_softmax(2), tg.ones(2, 3).long(), tg.tensor([6, 6]),
                       tg.tensor([-1, 3])),
])
def test_bad_options_torch_refuses_in_cpp_are_runtime_errors(call):
    with pytest.raises(FunctionalOptionError) as info:      # a ConfigError (ValueError) still
        call()
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)


def test_unflatten_dim_out_of_range_is_an_index_error():
    # was "dim 3 of input shape (2, 6) must have 6 elements", a size problem it is not
    with pytest.raises(IndexError, match="out of range"):
        tg.nn.Unflatten(3, (2, 3))(tg.randn(2, 6))
    with pytest.raises(ShapeError, match="must have 6 elements"):
        tg.nn.Unflatten(1, (2, 3))(tg.randn(2, 5))
    assert tg.nn.Unflatten(-1, (2, 3))(tg.randn(2, 6)).shape == (2, 2, 3)


# --- linear: torch's documented (in_features,) weight and a bias that broadcasts ----------------
def _fd_check_linear(x_shape, w_shape, b_shape):
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = None if b_shape is None else rng.standard_normal(b_shape)
    y = F.linear(tg.tensor(x), tg.tensor(w), None if b is None else tg.tensor(b)).numpy()
    ref = x @ (w if len(w_shape) == 1 else w.T) + (0.0 if b is None else b)
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    args = [tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)]
    if b is not None:
        args.append(tg.tensor(b, requires_grad=True))
    assert tg.gradcheck(lambda *a: F.linear(*a), args)


@pytest.mark.parametrize("shapes", [((2, 4), (4,), None), ((4,), (4,), ()), ((2, 4), (3, 4), ()),
                                    ((2, 4), (3, 4), (1,)), ((5, 2, 4), (3, 4), (2, 3))])
def test_linear_takes_torchs_vector_weight_and_broadcast_bias(shapes):
    _fd_check_linear(*shapes)


def test_linear_still_refuses_what_does_not_fit():
    with pytest.raises(ShapeError, match="1-D weight"):
        F.linear(tg.randn(2, 4), tg.randn(5))
    with pytest.raises(ShapeError, match="bias must have shape"):
        F.linear(tg.randn(2, 4), tg.randn(3, 4), tg.randn(2, 4))
    with pytest.raises(ShapeError, match="weight"):
        F.linear(tg.randn(2, 4), tg.randn(1, 3, 4))
