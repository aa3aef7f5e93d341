"""Complex tensors (session 25): dtypes, creation, torch's promotion, views, printing, checkpoints,
arithmetic and autograd (torch's conjugate Wirtinger convention, checked against central finite
differences on the real and imaginary parts), and the refusals of everything else."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError, DTypeError, DTypeNotImplementedError, ShapeError

from complex_grad_helpers import numeric_grad, real_loss

RNG = np.random.default_rng(25)


def crand(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def check_gradients(f, arrays, atol=1e-6):
    tensors = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = f(*tensors)
    weights = RNG.standard_normal(tuple(out.shape) + (2,))
    real_loss(out, weights).backward()
    for i, t in enumerate(tensors):
        assert t.grad.dtype == t.dtype
        expected = numeric_grad(lambda *v: real_loss(f(*v), weights), arrays, i)
        np.testing.assert_allclose(t.grad.numpy(), expected, atol=atol, err_msg=f"input {i}")


# ---------------------------------------------------------------------------------------------
# dtypes and creation
# ---------------------------------------------------------------------------------------------
def test_dtypes_and_creation(monkeypatch):
    assert tg.cfloat is tg.complex64 and tg.cdouble is tg.complex128
    z = tg.tensor([1 + 2j, 3])
    assert z.dtype == tg.complex64 and z.is_complex() and tg.is_complex(z) and not tg.ones(1).is_complex()
    assert tg.tensor(np.array([1j])).dtype == tg.complex128            # NumPy's dtype kept
    assert tg.tensor([np.complex128(1j), 1.0]).dtype == tg.complex128
    assert tg.tensor(2 + 3j).item() == 2 + 3j and z.tolist() == [1 + 2j, 3 + 0j]
    assert tg.zeros(2, dtype=tg.cfloat).dtype == tg.complex64 and tg.ones(2, dtype="complex128").dtype == tg.complex128
    assert tg.tensor([1j], requires_grad=True).requires_grad
    np.testing.assert_array_equal(z.numpy(), np.array([1 + 2j, 3], dtype=np.complex64))
    tg.set_default_dtype(tg.float64)
    try:
        assert tg.tensor([1j]).dtype == tg.complex128 and (tg.ones(2) * 1j).dtype == tg.complex128
    finally:
        tg.set_default_dtype(tg.float32)


def test_torch_promotion():
    """The result dtypes torch 2.13 gives for the same operands."""
    z, x32, x64 = tg.tensor([1 + 2j, 3 - 1j]), tg.ones(2), tg.ones(2, dtype=tg.float64)
    z128 = tg.tensor(1j, dtype=tg.complex128)
    assert (z + x64).dtype == tg.complex128 and (z * x32).dtype == tg.complex64
    assert (x32 * 1j).dtype == tg.complex64 and (x64 * 1j).dtype == tg.complex128
    assert (tg.arange(3) * 1j).dtype == tg.complex64 and (x32 + z128).dtype == tg.complex64
    assert (tg.arange(2) + z128).dtype == tg.complex128 and (z + tg.tensor(1.0, dtype=tg.float64)).dtype == tg.complex64
    assert (z / 2).dtype == tg.complex64 and (tg.arange(2) / z).dtype == tg.complex64
    assert tg.promote_types(tg.complex64, tg.float64) == tg.complex128
    assert tg.result_type(x32, z128) == tg.complex64 and tg.result_type(z, 1.5) == tg.complex64
    assert tg.can_cast(tg.float64, tg.complex64) and not tg.can_cast(tg.complex64, tg.float64)


def test_printing_as_torch():
    """Strings from torch 2.13 for the same tensors (its separate real / imaginary formatters)."""
    assert repr(tg.tensor([1 + 2j, 3 - 1j])) == "tensor([1.+2.j, 3.-1.j])"
    assert repr(tg.tensor([1.5 + 2j, -3.25e-5j], requires_grad=True) * 2) == \
        "tensor([3.+4.0000e+00j, 0.-6.5000e-05j], grad_fn=<MulBackward0>)"
    assert repr(tg.tensor([[1 + 1j, 2], [3, 4.5j]], dtype=tg.complex128)) == (
        "tensor([[1.+1.0000j, 2.+0.0000j],\n        [3.+0.0000j, 0.+4.5000j]], dtype=tensorgan.complex128)")
    assert repr(tg.tensor([float("nan") + 1j, float("inf") * 1j])) == "tensor([nan+1.j, nan+infj])"
    assert repr(tg.tensor([], dtype=tg.complex64)) == "tensor([], dtype=tensorgan.complex64)"


def test_checkpoints_keep_complex_tensors(tmp_path):
    m = tg.nn.Module()
    m.register_buffer("b", tg.tensor([1 + 1j, 2j], dtype=tg.complex128))
    m.p = tg.nn.Parameter(tg.tensor([1 + 0.5j]))
    tg.save({"sd": m.state_dict(), "z": tg.tensor([3j], requires_grad=True)}, tmp_path / "c.pt")
    back = tg.load(tmp_path / "c.pt")
    assert back["z"].requires_grad and back["z"].dtype == tg.complex64
    m2 = tg.nn.Module()
    m2.register_buffer("b", tg.zeros(2, dtype=tg.complex128))
    m2.p = tg.nn.Parameter(tg.zeros(1, dtype=tg.complex64))
    m2.load_state_dict(back["sd"])
    np.testing.assert_array_equal(m2.b.numpy(), [1 + 1j, 2j])
    np.testing.assert_array_equal(m2.p.detach().numpy(), [1 + 0.5j])


# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------
def test_views_share_memory_and_are_writable():
    z = tg.tensor([1 + 2j, 3 - 1j, 0.5j])
    r, i = z.real, z.imag
    r.mul_(2)
    i[0] = 5.0
    z += 1j
    pairs = tg.view_as_real(z)
    pairs[1, 1] = 9.0
    np.testing.assert_array_equal(z.numpy(), [2 + 6j, 6 + 9j, 1.5j])
    np.testing.assert_array_equal(r.numpy(), [2, 6, 0]) and np.testing.assert_array_equal(i.numpy(), [6, 9, 1.5])
    w = tg.view_as_complex(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    w.imag.zero_()
    assert w.dtype == tg.complex64 and w.tolist() == [1 + 0j, 3 + 0j]
    zt = tg.tensor(crand(2, 3)).t()                 # a transposed (strided) complex tensor
    np.testing.assert_array_equal(tg.view_as_real(zt).numpy()[..., 1], zt.numpy().imag)
    assert tg.real(tg.ones(2)) is not None and tg.ones(2).real.dtype == tg.float32
    with pytest.raises(ShapeError, match="last dimension of size 2"):
        tg.view_as_complex(tg.ones(3))
    with pytest.raises(ShapeError, match="stride 1"):
        tg.view_as_complex(tg.ones(2, 4).t())
    with pytest.raises(DTypeError, match="only supported for complex"):
        tg.view_as_real(tg.ones(2))
    with pytest.raises(DTypeError, match="non-complex"):
        tg.ones(2).imag


# ---------------------------------------------------------------------------------------------
# Values and gradients
# ---------------------------------------------------------------------------------------------
def test_values_against_numpy():
    a, b, x = crand(3, 4), crand(3, 4), RNG.standard_normal((3, 4))
    A, B, X = tg.tensor(a), tg.tensor(b), tg.tensor(x)
    for got, want in [(A + B, a + b), (A - X, a - x), (A * B, a * b), (X / A, x / a), (A ** 2, a ** 2),
                      (A.exp(), np.exp(a)), (A.abs(), np.abs(a)), (A.angle(), np.angle(a)),
                      (A.conj(), a.conj()), (A.sum(1), a.sum(1)), (A.mean(), a.mean()),
                      (tg.complex(X, X * 2), x + 2j * x), (tg.polar(X.abs(), X), np.abs(x) * np.exp(1j * x)),
                      (A.var(1), a.var(1, ddof=1)), (A.sgn(), a / np.abs(a)), (2.5 - A, 2.5 - a),
                      (tg.cat([A, B]).reshape(4, 6).permute(1, 0)[2:, [0, 3]], np.concatenate([a, b]).reshape(4, 6).T[2:, [0, 3]]),
                      (tg.stack([A, B], 1), np.stack([a, b], 1)), (A.to(tg.complex64), a.astype(np.complex64))]:
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-12)
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        assert A.to(tg.float64).tolist() == a.real.tolist()


CASES = {
    "mul": (lambda a, b: a * b, ["c", "c"]), "div": (lambda a, b: a / b, ["c", "c"]),
    "add_sub": (lambda a, b: a + b - 2 * a, ["c", "c"]),
    "mul_real_broadcast": (lambda a, x: a * x[0], ["c", "r"]), "real_div": (lambda x, a: x / a, ["r", "c"]),
    "numbers": (lambda a: (1.5 - 2j) * a + 2 / a - 3.0, ["c"]),
    "real_times_1j": (lambda x: x * 1j + x, ["r"]),
    "pow": (lambda a: a ** 2 + a.pow(3) + a ** 0.5, ["c"]), "exp": (lambda a: a.exp(), ["c"]),
    "abs_angle": (lambda a: a.abs() + a.angle(), ["c"]), "conj": (lambda a: a.conj() * a.conj(), ["c"]),
    "real_imag": (lambda a: a.real * a.imag ** 2, ["c"]), "sum_mean": (lambda a: a.sum(0) * a.mean(), ["c"]),
    "view_as_real": (lambda a: tg.view_as_real(a) ** 2, ["c"]),
    "view_as_complex": (lambda x: tg.view_as_complex(x.reshape(3, 2, 2)) ** 2, ["r"]),
    "complex": (lambda x, y: tg.complex(x, y) ** 2, ["r", "r"]),
    "polar": (lambda x, y: tg.polar(x.abs() + 0.5, y) ** 3, ["r", "r"]),
    "shape_ops": (lambda a: tg.cat([a, a.flip(0)]).reshape(4, 6).permute(1, 0)[1:, [0, 2, 2]]
                  * tg.stack([a, a]).sum(), ["c"]),
    "casts": (lambda a, x: (a * a).to(tg.float64) + x.to(tg.complex128) * 1j, ["c", "r"]),
    "sgn_var": (lambda a: a.sgn() * a.var(), ["c"]),
}


@pytest.mark.filterwarnings("ignore:Casting complex values")
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_against_finite_differences(name):
    f, kinds = CASES[name]
    arrays = [crand(3, 4) if k == "c" else RNG.standard_normal((3, 4)) for k in kinds]
    check_gradients(f, arrays)


def test_gradients_of_gradients():
    a = crand(3)
    z = tg.tensor(a, requires_grad=True)

    def grad_of(t):
        loss = ((t * t.conj() * t).exp().abs() + t.angle() + (t ** 2 / (t + 1)).real).sum()
        return tg.autograd.grad(loss, t, create_graph=True)[0]
    g = grad_of(z)
    ((g.abs() ** 2).sum() + g.imag.sum()).backward()

    def second(*v):
        t = tg.tensor(v[0].numpy(), requires_grad=True)
        gg = grad_of(t)
        return (gg.abs() ** 2).sum() + gg.imag.sum()
    np.testing.assert_allclose(z.grad.numpy(), numeric_grad(second, [a], 0), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op, match", [
    (lambda z: z < z, '"less" not implemented for \'ComplexFloat\''),
    (lambda z: z.max(), "max_all"), (lambda z: tg.relu(z), "clamp"), (lambda z: z.sort(), "sort"),
    (lambda z: tg.nn.functional.conv1d(z.reshape(1, 1, 2), tg.ones(1, 1, 1)), "conv"),
    (lambda z: z.erf(), "erf"), (lambda z: z.sign(), "sgn"), (lambda z: z.floor(), "floor"),
    (lambda z: z.argmax(), "argmax"), (lambda z: tg.atan2(z, z), "atan2"),
    (lambda z: tg.nn.functional.linear(z, z.reshape(1, 2)), "linear"),
    (lambda z: tg.nn.functional.mse_loss(z, z), "mse"), (lambda z: z // 2, "div_floor"),
])
def test_other_ops_refuse_complex_by_name(op, match):
    with pytest.raises(DTypeNotImplementedError, match=match):
        op(tg.tensor([1 + 2j, 3 - 1j]))


def test_backward_from_a_complex_tensor_needs_a_gradient():
    z = tg.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(AutogradError, match="real scalar outputs"):
        (z * 2).sum().backward()
    (z * 2).sum().backward(tg.tensor(1 + 0j))
    assert z.grad.tolist() == [2 + 0j]
