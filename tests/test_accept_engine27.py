"""Acceptance review of issue 2 (the engine): every listed op's gradient against a full
central-difference Jacobian of its NumPy definition (float64, drawn shapes with broadcasting and
size-1 dims), graph release, and the fixes this review made: gradcheck refuses inputs of which
none requires grad (torch's ValueError), ``Generator.seed()``, and typed errors for a bad
``seed=`` / ``generator=``."""
import numpy as np
import pytest

import tensorgan as tg

RNG = np.random.default_rng(27)


def _jacobian_vjp(f_np, arrays, k, v, eps=1e-6):
    """<f_np(arrays), v> differentiated by central differences w.r.t. arrays[k]."""
    grad = np.zeros_like(arrays[k])
    for idx in np.ndindex(arrays[k].shape):
        plus = [a.copy() for a in arrays]
        minus = [a.copy() for a in arrays]
        plus[k][idx] += eps
        minus[k][idx] -= eps
        grad[idx] = (np.sum(f_np(*plus) * v) - np.sum(f_np(*minus) * v)) / (2 * eps)
    return grad


def _check(f_tg, f_np, arrays):
    ts = [tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in arrays]
    out = f_tg(*ts)
    want = f_np(*arrays)
    assert out.dtype == tg.float64 and out.shape == np.shape(want)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    v = RNG.standard_normal(np.shape(want))
    (out * tg.tensor(v, dtype=tg.float64)).sum().backward()
    for k, a in enumerate(arrays):
        assert ts[k].grad.shape == a.shape
        np.testing.assert_allclose(ts[k].grad.numpy(), _jacobian_vjp(f_np, arrays, k, v),
                                   rtol=1e-6, atol=1e-7)


def _away_from_kinks(shape, positive=False):
    a = RNG.standard_normal(shape)
    a = np.where(np.abs(a) < 0.05, 0.3, a)
    return np.asarray(np.abs(a) + 0.5 if positive else a, dtype=np.float64)


PAIRS = [((2, 1, 3), (4, 1)), ((1,), (3, 2)), ((2, 3), ()), ((3, 1, 1), (1, 2, 2))]
BINARY = {"add": (lambda a, b: a + b), "sub": (lambda a, b: a - b), "mul": (lambda a, b: a * b),
          "div": (lambda a, b: a / b)}


@pytest.mark.parametrize("shapes", PAIRS)
@pytest.mark.parametrize("op", sorted(BINARY))
def test_broadcast_binary_ops_sum_gradients_back_to_each_shape(op, shapes):
    a, b = _away_from_kinks(shapes[0]), _away_from_kinks(shapes[1], positive=(op == "div"))
    _check(BINARY[op], BINARY[op], [a, b])


UNARY = {
    "neg": (lambda t: -t, lambda a: -a, False),
    "pow_1.5": (lambda t: t ** 1.5, lambda a: a ** 1.5, True),
    "pow_-2": (lambda t: t ** -2, lambda a: a ** -2.0, True),
    "exp": (lambda t: t.exp(), np.exp, False),
    "log": (lambda t: t.log(), np.log, True),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, True),
    "tanh": (lambda t: t.tanh(), np.tanh, False),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), False),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0), False),
    "clip": (lambda t: t.clip(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), False),
    "sum_keepdims": (lambda t: t.sum((0, 2), keepdim=True), lambda a: a.sum((0, 2), keepdims=True), False),
    "mean_axis": (lambda t: t.mean(-1), lambda a: a.mean(-1), False),
    "reshape": (lambda t: t.reshape(3, -1), lambda a: a.reshape(3, -1), False),
    "permute": (lambda t: t.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), False),
    "transpose": (lambda t: t.transpose(0, 2), lambda a: np.swapaxes(a, 0, 2), False),
    "flatten": (lambda t: t.flatten(1), lambda a: a.reshape(a.shape[0], -1), False),
    "slice": (lambda t: t[1:, ::2, None, -1], lambda a: a[1:, ::2, None, -1], False),
    "concat_twice": (lambda t: tg.concat([t, t * 2.0], 1), lambda a: np.concatenate([a, a * 2.0], 1), False),
    "diamond": (lambda t: (t * t + t.exp()) * t.tanh(), lambda a: (a * a + np.exp(a)) * np.tanh(a), False),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_and_shape_ops_match_a_full_jacobian(name):
    f_tg, f_np, positive = UNARY[name]
    _check(f_tg, f_np, [_away_from_kinks((3, 1, 4), positive)])


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((3, 4), (4,))])
def test_matmul_2d_batched_broadcast_and_1d(shapes):
    _check(lambda a, b: a @ b, lambda a, b: a @ b, [_away_from_kinks(s) for s in shapes])


def test_a_subgraph_freed_by_one_backward_refuses_the_next_unless_retained():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    first, second = h.sum(), (h * 2.0).sum()
    first.backward()
    with pytest.raises(RuntimeError, match="second time"):
        second.backward()
    h = x.exp()
    first, second = h.sum(), (h * 2.0).sum()
    first.backward(retain_graph=True)
    second.backward()


@pytest.mark.parametrize("check", [tg.gradcheck, tg.gradgradcheck])
def test_gradchecks_refuse_inputs_none_of_which_requires_grad(check):
    x = tg.tensor([1.0, 2.0], dtype=tg.float64)
    with pytest.raises(ValueError, match="require gradient"):
        check(lambda a: a * a, (x,))
    assert check(lambda a: a * a, (x.requires_grad_(),))


def test_generator_seed_reseeds_from_entropy_and_returns_the_seed():
    g = tg.Generator(3)
    seed = g.seed()
    assert isinstance(seed, int) and g.initial_seed() == seed
    first = tg.randn(4, generator=g).numpy()
    g.manual_seed(seed)
    np.testing.assert_array_equal(tg.randn(4, generator=g).numpy(), first)
    assert tg.seed() == tg.initial_seed()


@pytest.mark.parametrize("bad", ["cuda", 1.5, tg.device("cpu")])
def test_a_seed_that_is_not_an_integer_says_so(bad):
    with pytest.raises(tg.ConfigError, match="seed must be an integer"):
        tg.randn(2, seed=bad)


@pytest.mark.parametrize("bad", [3, np.random.default_rng(0)])
def test_a_generator_that_is_not_a_tensorgan_generator_is_a_type_error(bad):
    with pytest.raises(TypeError, match="generator must be a tensorgan.Generator, got"):
        tg.rand(2, generator=bad)


@pytest.mark.parametrize("number", [3, 2.5, np.float64(2.0)])
def test_matmul_with_a_number_is_torchs_type_error(number):
    x = tg.ones(2, 2)
    for form in (lambda: x @ number, lambda: number @ x, lambda: tg.matmul(x, number)):
        with pytest.raises(TypeError, match="unsupported operand type.*for @"):
            form()


def test_to_an_unknown_name_says_it_is_neither_a_device_nor_a_dtype():
    with pytest.raises(tg.DTypeError, match=r"to\('tpu'\): not a device .*unknown dtype 'tpu'"):
        tg.ones(2).to("tpu")
    assert tg.ones(2).to("float64").dtype == tg.float64 and str(tg.ones(2).to("cpu").device) == "cpu"
