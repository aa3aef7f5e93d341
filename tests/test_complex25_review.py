"""Complex tensors reviewed beside torch 2.13 (session 25): integer promotion with 0-d tensors,
writes of complex values, the z.real / z.imag setters, optimizers on complex parameters (torch's
view_as_real pairs), assert_close's message, and the complex creation / math ops added after the
review (gradients checked against central differences on the real and imaginary parts)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError

from complex_grad_helpers import numeric_grad, real_loss

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
    assert x.fill_(2 + 0j).tolist() == [2, 2, 2]
    with pytest.raises(DTypeError, match="cannot be converted"):
        x.fill_(1j)


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


# ---------------------------------------------------------------------------------------------
# Creation with complex dtypes (torch: randn's parts each N(0, 1/2), rand's each U[0, 1))
# ---------------------------------------------------------------------------------------------
def test_random_and_filled_creation_with_complex_dtypes():
    z = tg.randn(20000, dtype=tg.complex64, generator=tg.Generator().manual_seed(0))
    assert z.dtype == tg.complex64 and z.shape == (20000,)
    for part in (z.real, z.imag):
        assert abs(part.mean().item()) < 0.02 and abs(part.var().item() - 0.5) < 0.03
    assert abs((z.abs() ** 2).mean().item() - 1) < 0.05
    u = tg.rand(20000, dtype=tg.complex128)
    assert u.dtype == tg.complex128 and 0 <= u.real.min().item() and u.imag.max().item() < 1
    assert abs(u.imag.mean().item() - 0.5) < 0.02
    like = tg.zeros(2, 3, dtype=tg.complex64)
    for f in (tg.randn_like, tg.rand_like, tg.zeros_like, tg.ones_like, tg.empty_like):
        assert f(like).dtype == tg.complex64 and f(like).shape == (2, 3)
    assert tg.randn_like(tg.ones(2), dtype=tg.complex128).dtype == tg.complex128
    assert tg.randn(2, dtype=tg.cfloat, requires_grad=True).requires_grad
    assert tg.empty(2, dtype=tg.cdouble).dtype == tg.complex128 and tg.ones(1, dtype=tg.cfloat).tolist() == [1 + 0j]
    assert tg.full((2,), 1 + 2j).dtype == tg.complex64 and tg.full((2,), 1 + 2j).tolist() == [1 + 2j] * 2
    assert tg.full((1,), 3.0, dtype=tg.complex128).tolist() == [3 + 0j]
    assert tg.full_like(like, 1j).tolist()[0] == [1j] * 3 and tg.full((2,), 2 + 0j, dtype=tg.float32).tolist() == [2, 2]
    with pytest.raises(DTypeError, match="cannot be converted"):
        tg.full_like(tg.ones(2), 1 + 1j)
    with pytest.raises(DTypeError, match="cannot be converted"):
        tg.ones(2).new_full((2,), 1j)                       # (was zeros, silently)
    n = tg.zeros(20000, dtype=tg.complex64).normal_(1.0, 2.0)   # torch: each part N(mean, std^2/2)
    assert abs(n.imag.mean().item() - 1) < 0.05 and abs(n.real.var().item() - 2) < 0.15
    v = tg.zeros(1000, dtype=tg.complex64).uniform_(1.0, 2.0)
    assert 1 <= v.imag.min().item() and v.real.max().item() < 2
    tg.set_default_dtype(tg.float64)
    try:
        assert tg.full((1,), 1j).dtype == tg.complex128 and tg.randn(1, dtype=tg.complex64).dtype == tg.complex64
    finally:
        tg.set_default_dtype(tg.float32)


# ---------------------------------------------------------------------------------------------
# Math ops: values against NumPy, gradients against central differences on the real and
# imaginary parts (torch's convention: z.grad = dL/dRe z + i dL/dIm z for a real loss L)
# ---------------------------------------------------------------------------------------------
MATH = {
    "matmul": (lambda a, b: a @ b, [(3, 4), (4, 2)], lambda a, b: a @ b),
    "mv_dot": (lambda a, v: (a @ v) @ (a @ v), [(3, 4), (4,)], lambda a, v: (a @ v) @ (a @ v)),
    "batched_matmul": (lambda x, y: tg.matmul(x, y), [(2, 2, 3), (3, 2)], np.matmul),
    "bmm": (lambda x, y: tg.bmm(x, y), [(2, 2, 3), (2, 3, 2)], np.matmul),
    "einsum": (lambda a, b, v: tg.einsum("ij,jk,j->ik", a, b, v), [(2, 3), (3, 2), (3,)],
               lambda a, b, v: np.einsum("ij,jk,j->ik", a, b, v)),
    "einsum_trace": (lambda a: tg.einsum("ii->", a), [(3, 3)], lambda a: np.einsum("ii->", a)),
    "cumsum": (lambda a: a.cumsum(1), [(3, 4)], lambda a: a.cumsum(1)),
    "prod": (lambda a: a.prod() + a.prod(0).sum(), [(3, 2)], lambda a: a.prod() + a.prod(0).sum()),
    "cumprod": (lambda a: a.cumprod(1), [(2, 4)], lambda a: a.cumprod(1)),
    "log": (lambda a: a.log(), [(3, 4)], np.log), "sqrt": (lambda a: tg.sqrt(a), [(3, 4)], np.sqrt),
    "sin": (lambda a: a.sin(), [(3, 4)], np.sin), "cos": (lambda a: tg.cos(a), [(3, 4)], np.cos),
    "tanh": (lambda a: a.tanh(), [(3, 4)], np.tanh),
    "reciprocal": (lambda a: a.reciprocal(), [(3, 4)], lambda a: 1 / a),
    "square": (lambda a: tg.square(a), [(3, 4)], np.square),
    "norm": (lambda a: a.norm() + a.norm(dim=1).sum(), [(3, 4)],
             lambda a: np.linalg.norm(a) + np.linalg.norm(a, axis=1).sum()),
    "norm_p": (lambda a: a.norm(p=1, dim=0).sum() + a.norm(p=3), [(3, 4)],
               lambda a: np.abs(a).sum() + (np.abs(a) ** 3).sum() ** (1 / 3)),
    "vector_norm": (lambda a: tg.linalg.vector_norm(a, dim=(0,)), [(3, 4)],
                    lambda a: np.linalg.norm(a, axis=0)),
    "linalg_norm": (lambda a: tg.linalg.norm(a) + tg.linalg.matrix_norm(a, 1), [(3, 4)],
                    lambda a: np.linalg.norm(a) + np.linalg.norm(a, 1)),
}


@pytest.mark.parametrize("name", sorted(MATH))
def test_complex_math_values_and_gradients(name):
    f, shapes, reference = MATH[name]
    arrays = [crand(*s) for s in shapes]
    out = f(*[tg.tensor(a) for a in arrays])
    want = np.asarray(reference(*arrays))
    assert out.dtype == (tg.complex128 if want.dtype.kind == "c" else tg.float64)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    tensors = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = f(*tensors)
    weights = RNG.standard_normal(tuple(out.shape) + (2,))
    real_loss(out, weights).backward()
    for i, t in enumerate(tensors):
        expected = numeric_grad(lambda *v: real_loss(f(*v), weights), arrays, i)
        np.testing.assert_allclose(t.grad.numpy(), expected, atol=1e-6, err_msg=f"input {i}")


def test_complex_math_gradients_of_gradients():
    a, b = crand(2, 3), crand(3, 2)

    def grad_of(x, y):
        loss = ((x @ y).tanh().sin().abs().sum() + (x.log() * x.sqrt()).prod().real
                + tg.einsum("ij,jk->", x, y).imag + x.cos().cumprod(1).cumsum(0).real.sum())
        return tg.autograd.grad(loss, x, create_graph=True)[0]
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b)
    g = grad_of(x, y)
    (g.abs() ** 2).sum().backward()

    def second(*v):
        t = tg.tensor(v[0].numpy(), requires_grad=True)
        return (grad_of(t, tg.tensor(b)).abs() ** 2).sum()
    np.testing.assert_allclose(x.grad.numpy(), numeric_grad(second, [a], 0), rtol=1e-5, atol=1e-5)


def test_complex_matrix_products_refuse_mixed_dtypes_as_torch():
    z, x = tg.randn(2, 2, dtype=tg.complex64), tg.randn(2, 2)
    for f in (lambda: z @ x, lambda: tg.bmm(z[None], x[None]), lambda: tg.einsum("ij,jk->ik", z, x),
              lambda: z @ z.to(tg.complex128)):
        with pytest.raises(DTypeError, match="same dtype"):
            f()
    assert (z @ z).dtype == tg.complex64 and z.norm().dtype == tg.float32 and z.prod().dtype == tg.complex64
    assert "BmmBackward0" in repr(tg.bmm(z[None].requires_grad_(), z[None]))


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_moves_complex_parameters_as_real_pairs(line_search):
    """torch's LBFGS flattens a complex parameter as its view_as_real pairs (real dot products)."""
    a, b = crand(3), RNG.standard_normal(2)

    def loss(z, q):
        return ((z - 1j).abs() ** 4).sum() + tg.view_as_real(z).sum() + (q ** 4).sum() * z.abs().sum()
    zc, qc = tg.nn.Parameter(tg.tensor(a)), tg.nn.Parameter(tg.tensor(b))
    zr, qr = tg.nn.Parameter(tg.tensor(np.stack([a.real, a.imag], -1))), tg.nn.Parameter(tg.tensor(b))
    runs = [(tg.optim.LBFGS([zc, qc], lr=0.5, max_iter=5, line_search_fn=line_search), lambda: loss(zc, qc)),
            (tg.optim.LBFGS([zr, qr], lr=0.5, max_iter=5, line_search_fn=line_search),
             lambda: loss(tg.view_as_complex(zr), qr))]
    for opt, f in runs:
        def closure(opt=opt, f=f):
            opt.zero_grad()
            value = f()
            value.backward()
            return value
        for _ in range(3):
            opt.step(closure)
    np.testing.assert_allclose(tg.view_as_real(zc.detach()).numpy(), zr.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(qc.detach().numpy(), qr.detach().numpy(), rtol=1e-12, atol=1e-13)
    state = runs[0][0].state_dict()["state"][0]
    assert state["d"].dtype == tg.float64 and state["d"].shape == (8,)
