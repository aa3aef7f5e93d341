"""Own small fixes of session 21: binary_cross_entropy_with_logits weights of another float dtype
(promoted to the input's dtype as torch's, was a DTypeError); eval names an object .npy;
flip copies and diagonal is a view, as torch; view(dtype); optimizer
hyperparameters as one-element tensors."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


@pytest.mark.parametrize("x_dtype,w_dtype", [(tg.float64, tg.float32), (tg.float32, tg.float64)])
@pytest.mark.parametrize("which", ["weight", "pos_weight"])
def test_bce_with_logits_weights_take_the_inputs_dtype(x_dtype, w_dtype, which):
    x = tg.tensor([[0.5, -1.0, 2.0]], dtype=x_dtype, requires_grad=True)
    y = tg.tensor([[1.0, 0.0, 1.0]], dtype=x_dtype)
    w = tg.tensor([2.0, 1.0, 0.5], dtype=w_dtype)
    loss = F.binary_cross_entropy_with_logits(x, y, **{which: w})
    same = F.binary_cross_entropy_with_logits(x, y, **{which: w.to(x_dtype)})
    assert loss.dtype == x_dtype
    np.testing.assert_allclose(loss.item(), same.item(), rtol=1e-6)
    loss.backward()
    assert x.grad.dtype == x_dtype and np.isfinite(x.grad.numpy()).all()


def test_eval_names_an_object_npy_as_needing_pickle(tmp_path):
    from tensorgan.errors import DataError
    from tensorgan.evaluate_cli import load_samples
    path = tmp_path / "objects.npy"
    np.save(path, np.array([None] * 1000, dtype=object))
    with pytest.raises(DataError, match="Python objects.*allow_pickle=False"):
        load_samples(str(path))


def test_flip_copies_as_torch():
    b = tg.arange(4.0)
    f = b.flip(0)
    f[0] = 100.0                                     # writing the flip never writes b
    np.testing.assert_array_equal(b.numpy(), [0, 1, 2, 3])
    np.testing.assert_array_equal(f.numpy(), [100, 2, 1, 0])
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x.flip(0, 2)
    assert y.grad_fn.name() == "FlipBackward0"
    np.testing.assert_array_equal(y.detach().numpy(), np.arange(24.0).reshape(2, 3, 4)[::-1, :, ::-1])
    (y * tg.tensor(np.arange(24.0).reshape(2, 3, 4))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(24.0).reshape(2, 3, 4)[::-1, :, ::-1])


def test_diagonal_is_a_view_that_writes_its_input():
    x = tg.zeros(3, 4)
    x.diagonal().add_(2.0)
    x.diagonal(1).fill_(7.0)
    x.diagonal(-1).fill_(5.0)
    expected = np.zeros((3, 4))
    np.fill_diagonal(expected, 2.0)
    expected[[0, 1, 2], [1, 2, 3]] = 7.0
    expected[[1, 2], [0, 1]] = 5.0
    np.testing.assert_array_equal(x.numpy(), expected)
    batch = tg.zeros(2, 3, 3)
    batch.diagonal(0, 1, 2).fill_(1.0)              # a batch of identities
    np.testing.assert_array_equal(batch.numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))
    w = tg.randn(3, 3, requires_grad=True)
    with tg.no_grad():
        w.diagonal().fill_(0.0)                      # an init idiom
    assert np.all(np.diag(w.detach().numpy()) == 0)


def test_diagonal_values_and_gradient_unchanged():
    a = np.arange(60.0).reshape(3, 4, 5)
    x = tg.tensor(a, requires_grad=True)
    for offset, d1, d2 in ((0, 0, 1), (1, 1, 2), (-2, 2, 0), (3, 0, 2)):
        np.testing.assert_array_equal(x.diagonal(offset, d1, d2).detach().numpy(),
                                      np.diagonal(a, offset, d1, d2))
    x64 = tg.tensor(np.random.default_rng(0).normal(size=(4, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: (t.diagonal(1) ** 2).sum(), [x64])


def test_view_as_another_dtype_reinterprets_the_bits():
    x = tg.randn(2, 4, requires_grad=True)
    bits = x.view(tg.int32)
    assert bits.shape == (2, 4) and not bits.requires_grad and bits.grad_fn is None
    np.testing.assert_array_equal(bits.numpy(), x.detach().numpy().view(np.int32))
    assert x.view(tg.uint8).shape == (2, 16) and x.view(tg.float64).shape == (2, 2)
    z = tg.zeros(3)
    z.view(tg.int32)[0] = 1                          # one memory: the smallest subnormal
    assert z[0].item() == np.float32(1.4e-45)
    from tensorgan.errors import ShapeError
    with pytest.raises(ShapeError, match="cannot be read as float64"):
        tg.zeros(3).view(tg.float64)


def test_optimizer_hyperparameters_may_be_one_element_float_tensors():
    p = tg.nn.Parameter(tg.ones(2))
    opt = tg.optim.Adam([p], lr=tg.tensor(0.01, dtype=tg.float64))
    assert opt.param_groups[0]["lr"] == 0.01
    p.grad = tg.ones(2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.99, 0.99], rtol=1e-6)
    from tensorgan.errors import ConfigError
    with pytest.raises(ConfigError, match="lr must be 1-element"):     # torch's words
        tg.optim.SGD([p], lr=tg.tensor([0.1, 0.2]))
