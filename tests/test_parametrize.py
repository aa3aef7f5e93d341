"""torch's parametrization API: ``nn.utils.parametrize`` (register / remove / is_parametrized /
cached, chains, right_inverse) and ``nn.utils.parametrizations.spectral_norm`` / ``weight_norm``
built on it.  Values against NumPy (SVD, g * v / ||v||), float64 gradchecks through parametrized
Linear / Conv2d layers, torch's state-dict keys and a tg.save / tg.load round trip, removal, and
typed refusals."""
import copy
import pickle

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError
from tensorgan.nn.utils import parametrize as P
from tensorgan.nn.utils.parametrizations import spectral_norm, weight_norm


class Scale(nn.Module):
    """X -> 2 X, with its right inverse."""

    def forward(self, X):
        return 2 * X

    def right_inverse(self, X):
        return X / 2


class Symmetric(nn.Module):
    """The upper triangle mirrored (torch's tutorial example); no right_inverse."""

    def forward(self, X):
        return tg.triu(X) + tg.triu(X, 1).transpose(-1, -2)


class Flatten(nn.Module):
    def forward(self, X):
        return X.reshape(-1)


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def linear(n_in=4, n_out=4):
    return nn.Linear(n_in, n_out, dtype="float64")


def np_symmetric(a):
    return np.triu(a) + np.triu(a, 1).T


# -- register / access / gradients -----------------------------------------------------------------
def test_register_makes_weight_a_function_of_original():
    layer = linear()
    original = layer.weight
    assert P.register_parametrization(layer, "weight", Scale()) is layer
    assert type(layer).__name__ == "ParametrizedLinear" and P.type_before_parametrizations(layer) is nn.Linear
    assert P.is_parametrized(layer) and P.is_parametrized(layer, "weight") and not P.is_parametrized(layer, "bias")
    chain = layer.parametrizations.weight
    assert isinstance(chain, P.ParametrizationList) and isinstance(layer.parametrizations, nn.ModuleDict)
    # right_inverse at registration: original = W / 2, so the layer still computes what it did
    assert chain.original is original                        # the same Parameter: optimizers keep it
    w0 = layer.weight.numpy()
    np.testing.assert_allclose(chain.original.numpy() * 2, w0)
    assert [n for n, _ in layer.named_parameters()] == ["bias", "parametrizations.weight.original"]
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    x = tg.tensor(rand((3, 4)), requires_grad=True)
    assert tg.gradcheck(lambda x_, w_: (layer(x_) ** 2).sum(), [x, chain.original])
    with tg.no_grad():
        chain.original.mul_(3.0)                            # every access recomputes
    np.testing.assert_allclose(layer.weight.numpy(), 3 * w0)


def test_chain_of_two_parametrizations_applies_them_in_order():
    layer = linear()
    P.register_parametrization(layer, "weight", Scale())
    P.register_parametrization(layer, "weight", Symmetric())
    assert len(layer.parametrizations.weight) == 2
    original = layer.parametrizations.weight.original.numpy()
    np.testing.assert_allclose(layer.weight.numpy(), np_symmetric(2 * original))
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    x = tg.tensor(rand((2, 4), 1), requires_grad=True)
    assert tg.gradcheck(lambda x_, w_: layer(x_).tanh().sum(), [x, layer.parametrizations.weight.original])
    with pytest.raises(ConfigError, match="Symmetric has no right_inverse"):
        layer.weight = tg.tensor(rand((4, 4)))             # assignment needs every right_inverse


def test_assignment_goes_through_right_inverse():
    layer = linear()
    P.register_parametrization(layer, "weight", Scale())
    value = rand((4, 4), 2)
    original = layer.parametrizations.weight.original
    layer.weight = tg.tensor(value)
    assert layer.parametrizations.weight.original is original and "weight" not in layer._parameters
    np.testing.assert_allclose(original.numpy(), value / 2)
    np.testing.assert_allclose(layer.weight.numpy(), value)
    layer.weight = nn.Parameter(tg.tensor(2 * value))        # a Parameter too, not a new parameter
    np.testing.assert_allclose(layer.weight.numpy(), 2 * value)
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    with pytest.raises(DTypeError, match="float32"):
        layer.weight = tg.tensor(value, dtype="float32")


def test_a_buffer_can_be_parametrized():
    bn = nn.BatchNorm1d(3, dtype="float64")
    P.register_parametrization(bn, "running_var", Scale())
    assert "parametrizations.running_var.original" in bn.state_dict()
    np.testing.assert_allclose(bn.running_var.numpy(), np.ones(3))
    assert not bn.parametrizations.running_var.original.requires_grad


def test_cached_computes_each_tensor_once_per_block():
    layer = linear()
    P.register_parametrization(layer, "weight", Scale())
    assert layer.weight is not layer.weight
    with P.cached():
        first = layer.weight
        with P.cached():                                     # nested: the same cache
            assert layer.weight is first
    assert layer.weight is not first
    assert not P._cache


# -- removal ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("leave", [True, False])
def test_remove_leaves_the_parametrized_or_the_original_value(leave):
    layer = linear()
    P.register_parametrization(layer, "weight", Scale())
    P.register_parametrization(layer, "weight", Symmetric())
    original = layer.parametrizations.weight.original
    expected = layer.weight.numpy() if leave else original.numpy().copy()
    assert P.remove_parametrizations(layer, "weight", leave_parametrized=leave) is layer
    assert type(layer) is nn.Linear and not P.is_parametrized(layer) and "parametrizations" not in layer.__dict__
    assert layer.weight is original and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer.weight.numpy(), expected)
    assert list(layer.state_dict()) == ["bias", "weight"]   # torch's order after removal
    layer.weight = nn.Parameter(tg.tensor(rand((4, 4))))    # an ordinary layer again
    with pytest.raises(ConfigError, match="no parametrization on 'weight'"):
        P.remove_parametrizations(layer, "weight")


def test_remove_one_of_two_keeps_the_class_and_the_other():
    layer = linear()
    P.register_parametrization(layer, "weight", Scale())
    P.register_parametrization(layer, "bias", Scale())
    P.remove_parametrizations(layer, "weight")
    assert type(layer).__name__ == "ParametrizedLinear" and P.is_parametrized(layer, "bias")
    assert list(layer.state_dict()) == ["weight", "parametrizations.bias.original"]


def test_copies_and_pickles_are_independent():
    layer = linear()
    P.register_parametrization(layer, "weight", Scale())
    for twin in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        np.testing.assert_allclose(twin.weight.numpy(), layer.weight.numpy())
        P.remove_parametrizations(twin, "weight")
        assert type(twin) is nn.Linear
        assert P.is_parametrized(layer) and layer.weight.shape == (4, 4)   # the original's class kept its property


# -- refusals ----------------------------------------------------------------------------------------
def test_refusals_are_typed_and_name_the_problem():
    layer = linear()
    with pytest.raises(ConfigError, match="no parameter, buffer or parametrized tensor named 'kernel'"):
        P.register_parametrization(layer, "kernel", Scale())
    with pytest.raises(ShapeError, match=r"from \(4, 4\) to \(16,\).*unsafe=True"):
        P.register_parametrization(layer, "weight", Flatten())
    assert not P.is_parametrized(layer) and type(layer) is nn.Linear     # nothing changed
    with pytest.raises(InputTypeError, match="function"):
        P.register_parametrization(layer, "weight", lambda w: w)
    P.register_parametrization(layer, "weight", Flatten(), unsafe=True)
    assert layer.weight.shape == (16,)
    chained = P.register_parametrization(linear(), "weight", Scale())
    with pytest.raises(ShapeError, match="changes the shape"):          # the chained check
        P.register_parametrization(chained, "weight", Flatten())
    assert len(chained.parametrizations.weight) == 1
    with pytest.raises(ConfigError, match="is None"):
        P.register_parametrization(nn.Linear(2, 2, bias=False), "bias", Scale())


# -- spectral norm ---------------------------------------------------------------------------------
@pytest.mark.parametrize("make, dim, x_shape", [
    (lambda: nn.Linear(5, 4, dtype="float64"), 0, (2, 5)),
    (lambda: nn.Conv2d(3, 6, 3, dtype="float64"), 0, (2, 3, 5, 5)),
    (lambda: nn.ConvTranspose2d(3, 6, 4, 2, 1, dtype="float64"), 1, (2, 3, 3, 3))])
def test_spectral_norm_divides_by_the_largest_singular_value(make, dim, x_shape):
    tg.manual_seed(0)
    layer = make()
    # a clear gap between the two largest singular values, so the power iteration converges
    w = layer.weight.array
    left, s, right = np.linalg.svd(np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1), full_matrices=False)
    s[0] = 2.0 * s[1]
    w[...] = np.moveaxis((left * s @ right).reshape(np.moveaxis(w, dim, 0).shape), 0, dim)
    spectral_norm(layer)
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original",
                                        "parametrizations.weight.0._u", "parametrizations.weight.0._v"]
    sn = layer.parametrizations.weight[0]
    assert sn._u.shape == (w.shape[dim],) and sn._v.shape == (w.size // w.shape[dim],)
    for _ in range(60):                                        # one iteration per training access
        layer.weight
    np.testing.assert_allclose(layer.weight.numpy(), w / s[0], atol=1e-10)
    layer.eval()
    u = sn._u.numpy().copy()
    layer(tg.tensor(rand(x_shape)))
    np.testing.assert_array_equal(sn._u.numpy(), u)          # eval: no power iteration
    x = tg.tensor(rand(x_shape, 1), requires_grad=True)
    assert tg.gradcheck(lambda x_, w_: (layer(x_) ** 2).sum(), [x, layer.parametrizations.weight.original])


def test_spectral_norm_of_a_1d_weight_normalizes_it():
    layer = nn.BatchNorm1d(3, dtype="float64")
    spectral_norm(layer)
    w = layer.parametrizations.weight.original.numpy()
    np.testing.assert_allclose(layer.weight.numpy(), w / np.linalg.norm(w))


def test_spectral_norm_save_load_round_trip_and_removal(tmp_path):
    tg.manual_seed(3)
    layer = spectral_norm(nn.Conv2d(3, 4, 3, dtype="float64"))
    x = tg.tensor(rand((2, 3, 5, 5)))
    for _ in range(3):
        layer(x)
    tg.save(layer.state_dict(), tmp_path / "sn.npz")
    twin = spectral_norm(nn.Conv2d(3, 4, 3, dtype="float64"))
    twin.load_state_dict(tg.load(tmp_path / "sn.npz"))
    layer.eval(), twin.eval()
    np.testing.assert_array_equal(twin(x).numpy(), layer(x).numpy())
    expected = layer.weight.numpy()
    P.remove_parametrizations(layer, "weight")
    assert list(layer.state_dict()) == ["bias", "weight"]   # torch's order after removal
    np.testing.assert_allclose(layer.weight.numpy(), expected)  # eval: what the layer computed


def test_spectral_norm_refusals():
    with pytest.raises(ConfigError, match="no parameter or buffer 'kernel'"):
        spectral_norm(nn.Linear(2, 2), name="kernel")
    with pytest.raises(ShapeError, match="dim 2 is out of range"):
        spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ConfigError, match="n_power_iterations must be an int >= 1, got 0"):
        spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


# -- weight norm -----------------------------------------------------------------------------------
def np_norm_except_dim(v, dim):
    if dim in (None, -1):
        return np.sqrt((v ** 2).sum())
    others = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return np.sqrt((v ** 2).sum(axis=others, keepdims=True))


@pytest.mark.parametrize("dim, g_shape", [(0, (4, 1, 1, 1)), (1, (1, 3, 1, 1)), (None, ()), (-1, ()),
                                          (-2, (1, 1, 3, 1))])
def test_weight_norm_is_g_times_v_over_its_norm(dim, g_shape):
    layer = nn.Conv2d(3, 4, 3, dtype="float64")
    w = layer.weight.numpy().copy()
    weight_norm(layer, dim=dim)
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original0",
                                        "parametrizations.weight.original1"]
    chain = layer.parametrizations.weight
    g, v = chain.original0, chain.original1
    assert g.shape == g_shape and isinstance(g, nn.Parameter) and isinstance(v, nn.Parameter)
    np.testing.assert_allclose(layer.weight.numpy(), w)       # right_inverse: the same weight
    with tg.no_grad():
        g.copy_(tg.tensor(rand(g_shape, 4)))
        v.copy_(tg.tensor(rand(v.shape, 5)))
    g_, v_ = g.numpy(), v.numpy()
    np.testing.assert_allclose(layer.weight.numpy(), g_ * v_ / np_norm_except_dim(v_, dim))
    x = tg.tensor(rand((1, 3, 4, 4)), requires_grad=True)
    assert tg.gradcheck(lambda x_, g__, v__: layer(x_).sum(), [x, g, v])


def test_weight_norm_round_trip_assignment_and_removal(tmp_path):
    layer = weight_norm(nn.Linear(5, 3, dtype="float64"))
    value = rand((3, 5), 6)
    layer.weight = tg.tensor(value)
    np.testing.assert_allclose(layer.parametrizations.weight.original0.numpy(),
                               np.linalg.norm(value, axis=1, keepdims=True))
    tg.save(layer.state_dict(), tmp_path / "wn.npz")
    twin = weight_norm(nn.Linear(5, 3, dtype="float64"))
    twin.load_state_dict(tg.load(tmp_path / "wn.npz"))
    np.testing.assert_allclose(twin.weight.numpy(), value)
    with pytest.raises(ConfigError, match="leave_parametrized=False"):
        P.remove_parametrizations(twin, "weight", leave_parametrized=False)
    P.remove_parametrizations(twin, "weight")
    assert list(twin.state_dict()) == ["bias", "weight"] and isinstance(twin.weight, nn.Parameter)
    np.testing.assert_allclose(twin.weight.numpy(), value)
    with pytest.raises(ShapeError, match="dim 3 is out of range"):
        weight_norm(nn.Linear(2, 2), dim=3)


def test_hook_weight_norm_dim_minus_one_is_one_whole_norm():
    """torch's norm_except_dim convention, shared by the hook form: dim=-1 is not the last dim."""
    layer = tg.nn.utils.weight_norm(nn.Conv2d(3, 4, 3, dtype="float64"), dim=-1)
    assert layer.weight_g.shape == ()
    np.testing.assert_allclose(layer.weight_g.numpy(), np.linalg.norm(layer.weight_v.numpy()))


def test_a_parametrized_layer_still_checks_its_input_dtype():
    layer = spectral_norm(nn.Linear(3, 4, dtype="float64"))
    u = layer.parametrizations.weight[0]._u.numpy().copy()
    with pytest.raises(DTypeError, match="input is float32 but the module's weights are float64"):
        layer(tg.randn(2, 3))
    np.testing.assert_array_equal(layer.parametrizations.weight[0]._u.numpy(), u)   # no iteration ran
