"""Session 22 silent-garbage sweep: bad arguments that torch refuses and tensorgan used to turn
into a plausible-looking result (a truncated size, a NaN, a promoted dtype, a tensor split into
its rows). Each now raises a typed error that names what was wrong; the good calls beside them
still work."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError


# -- creation ops: a float / bool size was truncated (zeros(2.5) -> 2 elements) ----------------
@pytest.mark.parametrize("call", [
    lambda: tg.zeros(2.5), lambda: tg.ones(2, 3.0), lambda: tg.empty((2.0, 3)),
    lambda: tg.rand(2.5), lambda: tg.randn((2, 3.5)), lambda: tg.full((2.0,), 1.0),
    lambda: tg.normal(0.0, 1.0, size=(2.5,)), lambda: tg.randint(0, 5, (2.0,)),
])
def test_float_size_is_refused(call):
    with pytest.raises(InputTypeError, match="size must be ints"):
        call()


@pytest.mark.parametrize("call", [lambda: tg.rand(True), lambda: tg.zeros(2, False)])
def test_bool_size_is_refused(call):
    with pytest.raises(InputTypeError, match="bool"):
        call()


def test_int_sizes_still_work():
    assert tg.zeros(np.int64(2), 3).shape == (2, 3)
    assert tg.ones([2, tg.tensor(3)]).shape == (2, 3)
    assert tg.zeros(tg.Size([2, 3])).shape == (2, 3)
    assert tg.full((2,), 1.5).tolist() == [1.5, 1.5]
    with pytest.raises(ShapeError, match="negative"):
        tg.zeros(-1)


def test_arange_inconsistent_step_sign_and_nonfinite_bound():
    with pytest.raises(ConfigError, match="inconsistent with step sign"):
        tg.arange(5, 0, 1)
    with pytest.raises(ConfigError, match="inconsistent with step sign"):
        tg.arange(0, 5, -1)
    with pytest.raises(ConfigError, match="finite"):
        tg.arange(float("nan"))
    with pytest.raises(ConfigError, match="finite"):
        tg.arange(0, float("inf"))
    assert tg.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert tg.arange(3, 3).numel() == 0                  # an empty range is fine


# -- shape ops ------------------------------------------------------------------------------------
def test_reshape_size_below_minus_one():
    x = tg.ones(2, 3)
    with pytest.raises(ShapeError, match="invalid shape dimension -2 at index 0"):
        x.reshape(-2, 3)                                 # NumPy read -2 as -1
    with pytest.raises(ShapeError, match="-3"):
        x.view(-1, -3)
    assert x.reshape(-1, 2).shape == (3, 2) and x.view(3, -1).shape == (3, 2)


def test_unflatten_and_split_sizes_must_be_ints():
    x = tg.arange(6.0).reshape(2, 3)
    with pytest.raises(InputTypeError, match="unflatten: sizes must be ints"):
        x.unflatten(1, (3.0, 1))
    with pytest.raises(InputTypeError, match="split: split_size"):
        x.split([1, 2.0], dim=1)
    with pytest.raises(InputTypeError, match="split: split_size"):
        x.split(1.5)
    assert [p.shape for p in x.split([1, 2], dim=1)] == [(2, 1), (2, 2)]
    assert [p.shape for p in x.split(tg.tensor([1, 2]), dim=1)] == [(2, 1), (2, 2)]
    assert x.unflatten(1, (tg.tensor(3), 1)).shape == (2, 3, 1)


def test_cat_and_stack_of_one_tensor_are_refused():
    x = tg.arange(6.0).reshape(2, 3)
    with pytest.raises(InputTypeError, match="cat: takes a sequence of Tensors, got one Tensor"):
        tg.cat(x)                                        # was its rows joined: a flat (6,)
    with pytest.raises(InputTypeError, match="stack: .*one Tensor"):
        tg.stack(x)                                      # was x itself
    assert tg.cat(tuple(x)).tolist() == [0, 1, 2, 3, 4, 5]


def test_cat_of_different_ranks_names_the_shapes():
    x = tg.ones(2, 3)
    with pytest.raises(ShapeError, match=r"same number of dims.*\(2, 3\), \(5,\)"):
        tg.hstack([x, tg.ones(5)])                       # was a bare IndexError
    with pytest.raises(ShapeError, match="same number of dims"):
        tg.cat([x, tg.ones(3)], dim=1)


# -- dtypes ---------------------------------------------------------------------------------------
def test_negating_a_bool_tensor_is_refused():
    m = tg.tensor([True, False])
    with pytest.raises(DTypeError, match="bool tensor"):
        -m                                               # was int64 [-1, 0]
    with pytest.raises(DTypeError, match="logical_not"):
        m.neg()
    assert (-tg.tensor([1, 2])).tolist() == [-1, -2] and (~m).tolist() == [False, True]


@pytest.mark.parametrize("call", [
    lambda x, i: i @ x.T, lambda x, i: x @ i.T, lambda x, i: tg.mm(i, x.T),
    lambda x, i: tg.matmul(i, x.T), lambda x, i: tg.bmm(i[None], x.T[None]),
    lambda x, i: F.linear(i, x),
])
def test_matrix_product_of_int_and_float_is_refused(call):
    x, i = tg.ones(2, 3), tg.ones(2, 3).long()
    with pytest.raises(DTypeError, match="int64 and float32"):
        call(x, i)


def test_matrix_products_of_one_dtype_still_work():
    i = tg.tensor([[1, 2], [3, 4]])
    assert (i @ i).tolist() == [[7, 10], [15, 22]] and (i @ i).dtype == tg.int64
    assert F.linear(i, i).tolist() == [[5, 11], [11, 25]]
    assert (i.float() @ i.float()).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert (i.float() * i).dtype == tg.float32           # elementwise still promotes


def test_string_dtype_float_is_ambiguous():
    x = tg.ones(2)
    for call in (lambda: x.type("float"), lambda: x.to("float"),
                 lambda: tg.zeros_like(x, dtype="float"), lambda: tg.zeros(2, dtype="float")):
        with pytest.raises(DTypeError, match="'float' is ambiguous"):
            call()                                       # was float64 (NumPy's meaning)
    assert x.to("float32").dtype == tg.float32 and x.to("float64").dtype == tg.float64
    assert x.to("double").dtype == tg.float64


def test_tensor_of_integer_tensors_keeps_their_dtype():
    assert tg.tensor([tg.tensor(1), tg.tensor(2)]).dtype == tg.int64        # was float32
    assert tg.tensor([tg.tensor(True), tg.tensor(False)]).dtype == tg.bool
    assert tg.tensor([tg.tensor(1.5), tg.tensor(2)]).dtype == tg.float32
    assert tg.tensor([tg.tensor(1), 2]).tolist() == [1, 2]


def test_none_in_a_list_is_not_nan():
    with pytest.raises(InputTypeError, match="None"):
        tg.as_tensor([1, None])                          # was [1., nan]
    with pytest.raises(InputTypeError, match="None"):
        tg.tensor([[1.0, None]])
    t = tg.tensor([1.0, float("nan")])                   # a real NaN is kept
    assert np.isnan(t.numpy()[1])


# -- nn / functional ------------------------------------------------------------------------------
def test_batch_norm_in_eval_needs_running_stats():
    x = tg.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3))
    with pytest.raises(ConfigError, match="training=False normalizes with running_mean"):
        F.batch_norm(x, None, None, training=False)      # was batch statistics, silently
    y = F.batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(y.numpy().mean(0), 0.0, atol=1e-6)
    bn = nn.BatchNorm1d(3, track_running_stats=False).eval()   # the layer still uses batch stats
    np.testing.assert_allclose(bn(x).numpy(), y.numpy(), atol=1e-6)


def test_embedding_weight_must_be_2d():
    with pytest.raises(ShapeError, match="2-D"):
        F.embedding(tg.tensor([0, 1]), tg.ones(3))       # was a 1-D row pick
    assert F.embedding(tg.tensor([2, 0]), tg.eye(3)).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_hardtanh_module_bounds_checked_at_construction():
    with pytest.raises(ConfigError, match="max_val"):
        nn.Hardtanh(1.0, -1.0)
    assert nn.Hardtanh(-2.0, 2.0)(tg.tensor([-3.0, 0.5, 3.0])).tolist() == [-2.0, 0.5, 2.0]


def test_register_buffer_name_with_dot():
    m = nn.Linear(2, 2)
    with pytest.raises(ConfigError, match="without '.'"):
        m.register_buffer("a.b", tg.ones(1))             # state_dict could not load it back
    with pytest.raises(ConfigError):
        m.register_buffer("", tg.ones(1))
    m.register_buffer("ab", tg.ones(1))
    assert "ab" in m.state_dict()


# -- torch.normal's tensor forms (were a TypeError about a missing size) ---------------------------
def test_normal_with_tensor_mean_and_std():
    tg.manual_seed(0)
    mean, std = tg.full((4000, 2), 3.0), tg.tensor([0.5, 2.0])
    out = tg.normal(mean, std)                           # std broadcast over mean's rows
    assert out.shape == (4000, 2) and out.dtype == tg.float32
    np.testing.assert_allclose(out.numpy().mean(0), [3.0, 3.0], atol=0.15)
    np.testing.assert_allclose(out.numpy().std(0), [0.5, 2.0], rtol=0.06)
    assert tg.normal(0.0, tg.ones(3)).shape == (3,)
    assert tg.normal(tg.zeros(2).double(), 1.0).dtype == tg.float64
    np.testing.assert_array_equal(tg.normal(tg.tensor([1.0, -2.0]), 0.0).numpy(), [1.0, -2.0])


def test_normal_tensor_form_gradient_is_zero_and_bad_args_named():
    m, s = tg.zeros(3, requires_grad=True), tg.ones(3, requires_grad=True)
    y = tg.normal(m, s)
    assert y.requires_grad
    y.sum().backward()
    assert m.grad.tolist() == [0.0, 0.0, 0.0] and s.grad.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ShapeError, match="broadcast"):
        tg.normal(tg.zeros(3), tg.ones(4))
    with pytest.raises(InputTypeError, match="std must be >= 0"):
        tg.normal(tg.zeros(3), -1.0)
    with pytest.raises(InputTypeError, match="size="):
        tg.normal(tg.zeros(3), 1.0, (3,))
    with pytest.raises(InputTypeError, match="size="):
        tg.normal(0.0, 1.0)


# -- bare Python errors that now name the argument ---------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda x: x.roll(1.0, dims=1), "roll: shifts"),
    (lambda x: tg.tensordot(x, x, dims=1.5), "tensordot: dims"),
    (lambda x: tg.lerp(x, x, "a"), "lerp: weight"),
    (lambda x: x.new_full((2,), "a"), "new_full: fill_value"),
    (lambda x: nn.init.constant_(x, "a"), "constant_: val"),
    (lambda x: nn.init.calculate_gain("leaky_relu", "a"), "negative_slope"),
    (lambda x: nn.ModuleList(nn.Linear(3, 2)), "iterable of Modules"),
])
def test_bad_argument_is_a_typed_error(call, match):
    with pytest.raises(InputTypeError, match=match):
        call(tg.ones(2, 3))


def test_layernorm_float_shape_is_a_config_error():
    with pytest.raises(ConfigError, match="normalized_shape"):
        nn.LayerNorm(3.5)                                # was "'float' object is not iterable"


def test_good_forms_of_the_typed_error_ops_still_work():
    x = tg.arange(6.0).reshape(2, 3)
    assert x.roll(1, dims=1).tolist() == [[2, 0, 1], [5, 3, 4]]
    assert tg.tensordot(x, x, dims=([1], [1])).tolist() == [[5, 14], [14, 50]]
    assert x.new_full((2,), tg.tensor(3.0)).tolist() == [3.0, 3.0]
    assert nn.init.constant_(tg.ones(2), tg.tensor(2.0)).tolist() == [2.0, 2.0]
    assert len(nn.ModuleList(nn.Sequential(nn.Linear(3, 2), nn.ReLU()))) == 2
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx((2 / 1.04) ** 0.5)


def test_identity_ignores_constructor_arguments():
    m = nn.Identity(54, unused_argument1=0.1)            # torch's documented example
    x = tg.ones(2, 3)
    assert m(x) is x


def test_distribution_sample_shape_float_is_refused():
    d = tg.distributions.Normal(tg.zeros(2), tg.ones(2))
    with pytest.raises(InputTypeError, match="sample_shape"):
        d.sample((2.5,))                                 # was a (2, 2) sample
    with pytest.raises(InputTypeError, match="sample_shape"):
        d.sample((True,))
    assert d.sample((3,)).shape == (3, 2) and d.sample(tg.Size([4])).shape == (4, 2)
    assert d.sample((tg.tensor(2),)).shape == (2, 2)


def test_instance_norm_running_stats_checked():
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32))
    with pytest.raises(ShapeError, match="running_mean must be a tensor of 3 elements"):
        F.instance_norm(x, running_mean=tg.zeros(2), running_var=tg.ones(2))
    with pytest.raises(ConfigError, match="both"):
        F.instance_norm(x, running_mean=tg.zeros(3))     # was silently ignored
    rm, rv = tg.zeros(3), tg.ones(3)
    F.instance_norm(x, running_mean=rm, running_var=rv, momentum=1.0)
    np.testing.assert_allclose(rm.numpy(), x.numpy().mean(axis=(0, 2)), atol=1e-6)


def test_nan_to_num_value_must_be_a_number():
    x = tg.tensor([float("nan"), 1.0])
    with pytest.raises(InputTypeError, match="nan_to_num: nan"):
        x.nan_to_num(nan="a")
    assert x.nan_to_num(nan=5.0).tolist() == [5.0, 1.0]
