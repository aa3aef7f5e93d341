"""Session 30's leftovers (from session 29's reviews): small differences from torch 2.13."""

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


def _leaf(*shape):
    return tg.randn(*shape, dtype=tg.float64, requires_grad=True)


# --- a view made under no_grad() of a tensor that requires grad still requires grad ------------
@pytest.mark.parametrize("make", [lambda x: x[1:], lambda x: x.view(12), lambda x: x.t(),
                                  lambda x: x.diagonal(), lambda x: x.unfold(1, 2, 1)])
def test_no_grad_view_requires_grad_as_torch(make):
    x = _leaf(3, 4)
    with tg.no_grad():
        v = make(x)
    assert v.requires_grad and v.is_leaf and v.grad_fn is None
    with pytest.raises(AutogradError, match="under no_grad"):
        v.add_(1)                          # writes with grad mode on stay refused
    with tg.no_grad():
        v.mul_(1)                          # under no_grad() too: allowed


def test_no_grad_view_builds_a_graph_whose_gradient_stops_there():
    x = _leaf(3, 4)
    with tg.no_grad():
        v = x[1:]
    y = (v * 2).sum()
    assert y.requires_grad and y.grad_fn is not None
    y.backward()
    assert x.grad is None and v.grad is None     # torch: the view has no AccumulateGrad


def test_no_grad_view_of_a_constant_or_int_view_does_not_require_grad():
    x = _leaf(3, 4)
    with tg.no_grad():
        assert not x.detach()[1:].requires_grad
        assert not tg.arange(6).view(2, 3).requires_grad


# --- elementwise results laid out as torch's TensorIterator: the first operand decides ----------
def _cl_and_c():
    a = tg.randn(2, 3, 4, 5, dtype=tg.float64)
    return a.contiguous(memory_format=tg.channels_last), tg.randn(2, 3, 4, 5, dtype=tg.float64)


def _is_cl(t):
    return t.is_contiguous(memory_format=tg.channels_last) and not t.is_contiguous()


@pytest.mark.parametrize("op", [lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y,
                                lambda x, y: x / y, lambda x, y: tg.maximum(x, y),
                                lambda x, y: x > y, lambda x, y: x.lerp(y, 0.3),
                                lambda x, y: tg.addcmul(x, y, y),
                                lambda x, y: tg.nn.functional.mse_loss(x, y, reduction="none")])
def test_binary_op_result_takes_the_first_operands_layout(op):
    cl, c = _cl_and_c()
    ahead, behind = op(cl, c), op(c, cl)
    assert _is_cl(ahead) and behind.is_contiguous()      # torch: the first one decides
    np.testing.assert_array_equal(ahead.numpy(), op(cl.contiguous(), c).numpy())
    np.testing.assert_array_equal(behind.numpy(), op(c, cl.contiguous()).numpy())


def test_where_follows_its_condition_first():
    cl, c = _cl_and_c()
    assert _is_cl(tg.where(cl > 0, c, c))
    assert tg.where(c > 0, cl, c).is_contiguous()


def test_transposed_first_operand_lays_out_the_sum():
    p = tg.randn(4, 5, dtype=tg.float64).t()
    q = tg.randn(5, 4, dtype=tg.float64)
    assert (p + q).stride() == (1, 5) and (q + p).stride() == (4, 1)
    np.testing.assert_array_equal((p + q).numpy(), p.numpy() + q.numpy())
    assert (q[:, 1:3] * 2).is_contiguous()              # a sliced row-major view: C order


@pytest.mark.parametrize("op", [lambda x: tg.nn.functional.leaky_relu(x, 0.1), lambda x: x.sign(),
                                lambda x: x.floor(), lambda x: x.round(), lambda x: x.frac(),
                                lambda x: tg.nn.functional.dropout(x, 0.5, training=True)])
def test_unary_ops_keep_channels_last(op):
    cl, _ = _cl_and_c()
    assert _is_cl(op(cl))


def test_leaf_gradient_follows_the_leafs_layout():
    cl, c = _cl_and_c()
    x = cl.clone().requires_grad_(True)
    (tg.nn.functional.relu(x) * c).sum().backward()
    assert _is_cl(x.grad)                        # torch's AccumulateGrad layout contract
    np.testing.assert_array_equal(x.grad.numpy(), np.where(cl.numpy() > 0, c.numpy(), 0))
    y = c.clone().requires_grad_(True)
    (y.contiguous(memory_format=tg.channels_last) * cl).sum().backward()
    assert y.grad.is_contiguous()
    np.testing.assert_array_equal(y.grad.numpy(), cl.numpy())


# --- unfold of an empty tensor is a view too ------------------------------------------------------
def test_unfold_of_an_empty_tensor_is_a_view():
    x = tg.zeros(0, 4, dtype=tg.float64)
    u = x.unfold(1, 2, 1)
    assert u.shape == (0, 3, 2)
    u.add_(1)                                    # (no element overlaps: writable, as torch's)
    assert u._version == x._version == 1         # one memory, one version
    leaf = tg.zeros(0, 4, dtype=tg.float64, requires_grad=True)
    with pytest.raises(AutogradError, match="view of a leaf"):
        leaf.unfold(1, 2, 1).mul_(2)
    y = leaf * 1
    y.unfold(1, 2, 1).add_(1)                    # a tracked write into the view: y's graph
    assert y.grad_fn.name() == "torch::autograd::CopySlices"


# --- prelu's second derivative at x == 0: torch's (its double backward masks x < 0) -------------
def test_prelu_second_derivative_at_zero_is_torchs():
    x = tg.tensor([0.0, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
    w = tg.tensor([0.25], dtype=tg.float64, requires_grad=True)
    gx, gw = tg.autograd.grad(tg.nn.functional.prelu(x, w).sum(), (x, w), create_graph=True)
    assert gx.tolist() == [0.25, 0.25, 1.0] and gw.tolist() == [-1.0]   # first: the slope at 0
    assert tg.autograd.grad(gx.sum(), w, retain_graph=True)[0].tolist() == [1.0]
    assert tg.autograd.grad(gw.sum(), x)[0].tolist() == [0.0, 1.0, 0.0]


def test_prelu_double_backward_away_from_zero_matches_finite_differences():
    x = tg.tensor([[0.3, -1.2], [-0.4, 2.0]], dtype=tg.float64, requires_grad=True)
    w = tg.tensor([0.25, 0.1], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradgradcheck(tg.nn.functional.prelu, (x, w))


# --- the 0-norm: torch's node, with no gradient -------------------------------------------------
def test_vector_norm_ord_zero_has_torchs_node_and_leaves_no_gradient():
    x = tg.tensor([[0., 2., -3.], [0, 0, 1]], dtype=tg.float64, requires_grad=True)
    y = tg.linalg.vector_norm(x, ord=0)
    assert y.item() == 3.0 and y.grad_fn.name() == "LinalgVectorNormBackward0"
    y.backward()
    assert x.grad is None                                 # torch: undefined, not zeros
    (x.norm(p=0, dim=0).sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    with pytest.raises(AutogradError, match="not used"):
        tg.autograd.grad(tg.linalg.vector_norm(x, ord=0), x)


# --- composite index ops under torch's grad_fn names --------------------------------------------
def test_scatter_and_fill_ops_have_torchs_node_names():
    base = _leaf(3, 3)
    src = _leaf(2, 3)
    idx = tg.tensor([[0, 1, 2], [2, 0, 1]])
    rows = tg.tensor([0, 2])
    value = tg.tensor(2.0, dtype=tg.float64, requires_grad=True)
    got = {
        "ScatterAddBackward0": base.scatter_add(0, idx, src),
        "ScatterReduceBackward0": base.scatter_reduce(0, idx, src, "sum"),
        "IndexAddBackward0": base.index_add(0, rows, src),
        "IndexFillBackward0": base.index_fill(0, rows, 2.0),
        "IndexFillBackward1": base.index_fill(0, rows, value),
        "MaskedFillBackward0": base.masked_fill(base > 0, 1.0),
        "MaskedFillBackward1": base.masked_fill(base > 0, value),
    }
    for name, out in got.items():
        assert out.grad_fn.name() == name
    mean = base.scatter_reduce(0, idx, src, "mean", include_self=False)
    assert mean.grad_fn.name() == "ScatterReduceBackward0"
    scattered = base.detach().numpy().copy()
    np.add.at(scattered, (idx.numpy(), np.arange(3)[None, :].repeat(2, 0)), src.detach().numpy())
    np.testing.assert_allclose(got["ScatterAddBackward0"].detach().numpy(), scattered)
    got["ScatterAddBackward0"].sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), np.ones((2, 3)))
