"""Review of session 31's first merges (layouts, masks, reductions): edge inputs beside torch 2.13."""
import numpy as np
import pytest

import tensorgan as tg


def _big_strides(t):
    """Strides of the dims of size > 1 (torch and NumPy may differ on the others)."""
    return tuple(s for s, n in zip(t.stride(), t.shape) if n > 1)


@pytest.mark.parametrize("make, strides", [          # (torch 2.13's)
    (lambda t: t[:, :1].expand(2, 3, 4, 5), (60, 20, 5, 1)),   # every dim tied with a zero stride
    (lambda t: t[:1].expand(2, 3, 4, 5), (60, 20, 5, 1)),
    (lambda t: t.contiguous(memory_format=tg.channels_last)[:, :, :1].expand(2, 3, 4, 5), (60, 1, 3, 12)),
])
@pytest.mark.parametrize("dims", [(0,), (1, 3), ()])
def test_flip_of_an_expanded_tensor_is_dense_in_torchs_order(make, strides, dims):
    base = tg.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 5)))
    x = make(base)
    y = x.flip(dims)
    assert y.stride() == strides        # (NumPy's order='K' puts the zero strides outermost)
    np.testing.assert_array_equal(y.numpy(), np.flip(x.numpy(), dims))


def test_flip_of_a_transposed_expand_orders_the_strided_dims():
    x = tg.arange(6.0).reshape(2, 3).t()[:, :, None].expand(3, 2, 4)   # dims 0, 1 transposed
    y = x.flip(0)
    assert y.stride() == (4, 12, 1)     # torch 2.13: the strided dims F-ordered, the expanded one inner
    np.testing.assert_array_equal(y.numpy(), np.flip(x.numpy(), 0))


@pytest.mark.parametrize("shape, mask", [((1,), [1, 0]), ((2, 1), [[1, 0]]), ((0, 2), [[1, 0]])])
def test_index_put_names_a_uint8_masks_shape_before_refusing_masked_fill(shape, mask):
    x = tg.zeros(*shape)
    with pytest.warns(UserWarning, match="uint8"), pytest.raises(tg.errors.MaskShapeError, match="shape of the mask"):
        tg.index_put(x, (tg.tensor(mask, dtype=tg.uint8),), tg.tensor(1.0))   # torch: IndexError


def test_index_put_refuses_a_fitting_uint8_mask_with_a_one_element_value():
    with pytest.warns(UserWarning, match="uint8"), pytest.raises(tg.errors.DTypeError, match="masked_fill_"):
        tg.index_put(tg.zeros(2), (tg.tensor([1, 0], dtype=tg.uint8),), tg.tensor(1.0))


@pytest.mark.parametrize("op, fmt, shape", [
    (tg.nn.functional.adaptive_avg_pool2d, tg.channels_last, (2, 3, 4, 5)),
    (tg.nn.functional.adaptive_avg_pool3d, tg.channels_last_3d, (2, 3, 2, 4, 5)),
])
def test_global_average_pool_of_channels_last_is_torchs_as_strided_node(op, fmt, shape):
    a = np.random.default_rng(1).standard_normal(shape)
    x = tg.tensor(a).contiguous(memory_format=fmt).requires_grad_(True)
    y = op(x, 1)
    assert y.grad_fn.name() == "AsStridedBackward1"     # torch 2.13 restrides the mean
    assert op(tg.tensor(a, requires_grad=True), 1).grad_fn.name() == "MeanBackward1"
    y.backward(tg.ones_like(y) * 2)
    np.testing.assert_allclose(x.grad.numpy(), np.full(shape, 2 / np.prod(shape[2:])))
