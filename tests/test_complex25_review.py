"""Complex tensors reviewed beside torch 2.13 (session 25): integer promotion with 0-d tensors,
writes of complex values, the z.real / z.imag setters, optimizers on complex parameters (torch's
view_as_real pairs), assert_close's message, and the complex creation / math ops added after the
review (gradients checked against central differences on the real and imaginary parts)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError

RNG = np.random.default_rng(2525)


def crand(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


# ---------------------------------------------------------------------------------------------
# Promotion
# ---------------------------------------------------------------------------------------------
def test_integer_tensors_with_dimensions_decide_over_zero_dim_ones():
    """torch's priorities (its promotion docs): a 0-d tensor of the same category yields."""
    i32, u8, b = tg.tensor(np.array([1, 2], np.int32)), tg.tensor(np.array([1, 2], np.uint8)), \
        tg.tensor([True, False])
    s64 = tg.tensor(3)
    for x in (i32, u8):
        for f in (lambda x, s: x + s, lambda x, s: s - x, lambda x, s: x * s):
            assert f(x, s64).dtype == x.dtype
    assert (b + s64).dtype == tg.int64 and (i32 + tg.tensor(np.array([3], np.int64))).dtype == tg.int64
    assert (tg.tensor(np.int32(1)) + s64).dtype == tg.int64 and (i32 + 1).dtype == tg.int32
    assert (i32 + s64).tolist() == [4, 5] and tg.result_type(i32, s64) == tg.int32


# ---------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------
def test_complex_number_into_a_real_tensor_is_refused_unless_real():
    x = tg.ones(3)
    with pytest.raises(DTypeError, match="cannot be converted to type float32"):
        x[0] = 5 + 1j
    with pytest.raises(RuntimeError):
        x[1:] = np.complex128(2j)
    x[0] = 5 + 0j
    assert x.tolist() == [5, 1, 1]
    with pytest.raises(DTypeError):
        x += 1j


def test_real_imag_setters_and_conj_physical_():
    z = tg.tensor([1 + 2j, 3j])
    z.imag = tg.tensor([5.0, 6.0])
    z.real = 2
    assert z.tolist() == [2 + 5j, 2 + 6j]
    z.imag = tg.tensor([7.0], dtype=tg.float64)          # broadcast and cast, as copy_
    assert z.tolist() == [2 + 7j, 2 + 7j]
    assert z.conj_physical_() is z and z.tolist() == [2 - 7j, 2 - 7j]
    x = tg.ones(2)
    x.real = tg.tensor([3.0, 4.0])                        # a real tensor is its own real part
    assert x.tolist() == [3, 4]
    with pytest.raises(DTypeError, match="non-complex"):
        x.imag = tg.zeros(2)


def test_real_imag_grad_fn_names_are_torchs():
    z = tg.tensor([1 + 2j], requires_grad=True)
    assert "SelectBackward0" in repr(z.real) and "SelectBackward0" in repr(z.imag)


def test_requires_grad_message_names_complex():
    with pytest.raises(DTypeError, match="complex dtypes"):
        tg.zeros(2, dtype=tg.int64, requires_grad=True)
    assert tg.zeros(2, dtype=tg.complex64, requires_grad=True).requires_grad


def test_assert_close_on_complex_reports_real_relative_difference():
    x, y = tg.tensor([1 + 1j, 2 + 2j]), tg.tensor([1 + 1j, 2 + 2.1j])
    with pytest.raises(AssertionError, match=r"Greatest relative difference: 0\.0344"):
        tg.testing.assert_close(x, y)
    assert tg.allclose(x, x + 1e-9) and tg.isclose(x, y, atol=0.2).all()


# ---------------------------------------------------------------------------------------------
# Optimizers: a complex parameter moves as its view_as_real pairs would (torch's single-tensor
# code: view_as_real of the parameter, gradient and state)
# ---------------------------------------------------------------------------------------------
OPTIMIZERS = [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
              ("Adam", dict(lr=0.05)), ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
              ("Adam", dict(lr=0.05, maximize=True)), ("AdamW", dict(lr=0.05, weight_decay=0.1)),
              ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
              ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.3)), ("Adamax", dict(lr=0.05)),
              ("NAdam", dict(lr=0.05)), ("RAdam", dict(lr=0.05)), ("Adadelta", dict(lr=1.0)),
              ("ASGD", dict(lr=0.01)), ("Rprop", dict(lr=0.01))]


@pytest.mark.parametrize("name, kw", OPTIMIZERS, ids=[f"{n}{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_optimizers_move_complex_parameters_as_real_pairs(name, kw):
    a, w = crand(3, 2), crand(3, 2)
    zc = tg.nn.Parameter(tg.tensor(a))
    zr = tg.nn.Parameter(tg.tensor(np.stack([a.real, a.imag], -1)))
    W = tg.tensor(w)

    def loss(z):
        return ((z * W).abs() ** 2).sum() + tg.view_as_real(z ** 2).sum()
    oc, orr = getattr(tg.optim, name)([zc], **kw), getattr(tg.optim, name)([zr], **kw)
    for _ in range(12):
        for opt, p, z in ((oc, zc, zc), (orr, zr, None)):
            opt.zero_grad()
            loss(z if z is not None else tg.view_as_complex(p)).backward()
            opt.step()
    np.testing.assert_allclose(tg.view_as_real(zc.detach()).numpy(), zr.detach().numpy(), rtol=1e-12, atol=1e-13)
    arrays = [v for v in oc.state[zc].values() if isinstance(v, tg.Tensor) and v.ndim]
    assert arrays and all(v.dtype == tg.complex128 for v in arrays)   # torch's state: complex


def test_optimizer_on_a_transposed_complex_parameter():
    p = tg.nn.Parameter(tg.tensor([[1 + 1j, 2j]]).t())
    opt = tg.optim.Adam([p], lr=0.001)
    p.abs().sum().backward()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy()[:, 0], [0.999 + 0.999j, 1.999j], rtol=1e-6)
