"""Views as torch's on any strided layout, writes through them included (session 29, h29a)."""
import numpy as np
import pytest

import tensorgan as tg


def _complex(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def test_diagonal_of_view_as_real_of_a_sliced_complex_tensor_writes_it():
    x = tg.zeros(4, 4, dtype=tg.complex128)
    d = tg.view_as_real(x[:, ::2]).diagonal()     # (4, 2, 2) pairs: d[p, k] = x[k, 2k]'s part p
    d.fill_(1)
    expected = np.zeros((4, 4), complex)
    expected[0, 0] = expected[1, 2] = 1 + 1j
    np.testing.assert_array_equal(x.numpy(), expected)


def test_diagonal_of_an_as_strided_numpy_array_writes_it():
    a = np.zeros((4, 6))
    x = tg.from_numpy(np.lib.stride_tricks.as_strided(a, (3, 3), (48, 16)))
    x.diagonal().fill_(1)
    expected = np.zeros((4, 6))
    expected[[0, 1, 2], [0, 2, 4]] = 1
    np.testing.assert_array_equal(a, expected)


def test_view_as_real_of_a_permuted_complex_result_written_in_place():
    """view_as_real of a transposed complex tensor is a view autograd sees: the write lands in
    ``y`` and its gradients follow (it was silently a separate buffer)."""
    xv, wv = _complex((2, 4)), np.random.default_rng(1).standard_normal((4, 2, 2))
    x = tg.tensor(xv, requires_grad=True)
    w = tg.tensor(wv, requires_grad=True)
    y = x * 1.5
    tg.view_as_real(y.permute(1, 0)).mul_(w)
    pairs = tg.view_as_real(y)
    (pairs * pairs).sum().backward()
    w_t = wv.transpose(1, 0, 2)                      # w's pairs where they land in y
    new = 1.5 * np.stack([xv.real, xv.imag], -1) * w_t
    np.testing.assert_allclose(pairs.detach().numpy(), new, rtol=1e-12)
    g = 2 * 1.5 * new * w_t
    np.testing.assert_allclose(x.grad.numpy(), g[..., 0] + 1j * g[..., 1], rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), (2 * new * new / w_t).transpose(1, 0, 2), rtol=1e-12)


@pytest.mark.parametrize("part", ["real", "imag"])
def test_real_and_imag_of_a_complex_result_written_in_place(part):
    xv = _complex((3, 3), 2)
    x = tg.tensor(xv, requires_grad=True)
    w = tg.tensor(np.full((3,), 3.0), requires_grad=True)
    y = x * 2
    getattr(y, part).diagonal().mul_(w)
    expected = 2 * xv.copy()
    scale = np.full((3, 3), 1 + 1j)                 # (each part's factor)
    idx = np.arange(3)
    if part == "real":
        expected[idx, idx] = 3 * expected[idx, idx].real + 1j * expected[idx, idx].imag
        scale[idx, idx] = 3 + 1j
    else:
        expected[idx, idx] = expected[idx, idx].real + 3j * expected[idx, idx].imag
        scale[idx, idx] = 1 + 3j
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12)
    pairs = tg.view_as_real(y)
    (pairs * pairs).sum().backward()
    # d/dx of sum((2 s x)^2) per real component: 8 s^2 x
    g = 8 * (scale.real ** 2 * xv.real + 1j * scale.imag ** 2 * xv.imag)
    np.testing.assert_allclose(x.grad.numpy(), g, rtol=1e-12)
    comp = getattr(2 * xv[idx, idx], part)
    np.testing.assert_allclose(w.grad.numpy(), 2 * comp * comp * 3, rtol=1e-12)


def test_diagonal_of_a_complex_result_written_with_a_tracked_value():
    """AsStridedView (a written diagonal's graph) takes complex tensors (it refused them)."""
    xv, wv = _complex((3, 3), 3), _complex((3,), 4)
    x = tg.tensor(xv, requires_grad=True)
    w = tg.tensor(wv, requires_grad=True)
    y = x * 1
    y[:, :].diagonal().mul_(w)
    loss = tg.view_as_real(y).sum()
    loss.backward()
    scale = np.ones((3, 3), complex)
    scale[np.arange(3), np.arange(3)] = wv
    np.testing.assert_allclose(y.detach().numpy(), xv * scale, rtol=1e-12)
    # loss = sum(Re(s x) + Im(s x)); its gradient in x (torch's convention: dL/dRe + i dL/dIm)
    # is conj(s) (1 + i)
    np.testing.assert_allclose(x.grad.numpy(), np.conj(scale) * (1 + 1j), rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda x: x.view(2, 2).diagonal(),
    lambda x: x.unfold(0, 2, 2),
    lambda x: x.as_strided((2,), (2,)),
], ids=["diagonal", "unfold", "as_strided"])
def test_a_view_made_under_no_grad_of_a_leaf_refuses_a_write_with_grad_on(make):
    """As torch's (and as tensorgan's other views): the leaf's graph would not see the write
    (diagonal / unfold / as_strided wrote the leaf silently)."""
    x = tg.ones(4, requires_grad=True)
    with tg.no_grad():
        v = make(x)
    with pytest.raises(tg.errors.AutogradError, match="no_grad"):
        v.mul_(2)
    with tg.no_grad():
        v.mul_(2)                  # (under no_grad: allowed, written in the leaf)
    assert float(x.detach().sum()) > 4


def test_diag_of_a_matrix_is_a_new_tensor():
    """torch.diag of a 2-D input copies (torch.diagonal is the view)."""
    x = tg.zeros(3, 3)
    d = tg.diag(x)
    d.fill_(1)
    assert float(x.sum()) == 0
    x.diagonal().fill_(2)
    assert float(x.sum()) == 6 and float(d.sum()) == 3
