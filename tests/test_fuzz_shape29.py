"""Cases found by differential fuzzing of shape ops against torch (session 29): split / pad /
diff / cdist edge cases, each checked against NumPy or by hand."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


def _leaf(values):
    return tg.tensor(np.asarray(values, dtype=np.float64), dtype=tg.float64, requires_grad=True)


# --- split: a split_size of 0 is allowed on an empty dim (one empty piece), as torch's -------

def test_split_size_zero_on_an_empty_dim_gives_one_empty_piece():
    x = tg.zeros(0, 3)
    for pieces in (x.split(0), tg.split(x, 0, dim=0)):
        assert len(pieces) == 1 and tuple(pieces[0].shape) == (0, 3)


def test_split_size_zero_on_a_non_empty_dim_is_refused():
    with pytest.raises(RuntimeError, match="split_size"):
        tg.zeros(2, 3).split(0)
    with pytest.raises(RuntimeError, match="split_size"):
        tg.zeros(2, 3).split(-1)


# --- F.pad: non-constant modes may crop a dim to nothing (torch returns an empty dim) ----------

@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_cropping_one_dim_to_nothing_gives_an_empty_dim(mode):
    x = _leaf(np.arange(8.0).reshape(1, 2, 4, 1))
    y = F.pad(x, (-1, 0, 1, 1), mode=mode)
    assert tuple(y.shape) == (1, 2, 6, 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((1, 2, 4, 1)))


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_pad_cropping_every_padded_dim_to_nothing_is_refused(mode):
    with pytest.raises(RuntimeError, match="leaves no element"):
        F.pad(tg.zeros(1, 2, 3), (-2, -1), mode=mode)


def test_circular_pad_cropping_to_nothing_is_allowed_and_negative_sizes_refused():
    assert tuple(F.pad(tg.zeros(1, 2, 3), (-2, -1), mode="circular").shape) == (1, 2, 0)
    with pytest.raises(RuntimeError, match="negative output size"):
        F.pad(tg.zeros(1, 2, 3), (-2, -2), mode="replicate")


# --- diff: n = 0 is the input itself, prepend / append left out; a negative n is torch's
#     RuntimeError (and still the TypeError tensorgan raised before) ---------------------------

def test_diff_of_order_zero_ignores_prepend_and_append():
    x = _leaf([0.0, 1.0, 3.0])
    y = tg.diff(x, n=0, prepend=tg.tensor([5.0]), append=tg.tensor([7.0]))
    np.testing.assert_array_equal(y.numpy(), [0.0, 1.0, 3.0])
    y.mul_(2.0)                   # a copy: the input is left alone
    np.testing.assert_array_equal(x.detach().numpy(), [0.0, 1.0, 3.0])
    np.testing.assert_array_equal(tg.diff(x, n=1, prepend=tg.tensor([5.0])).detach().numpy(),
                                  [-5.0, 1.0, 2.0])


def test_diff_of_negative_order_is_a_runtime_error():
    for error in (RuntimeError, TypeError):
        with pytest.raises(error, match="n must be an int >= 0"):
            tg.diff(tg.zeros(3), n=-1)


# --- cdist: p = inf over zero coordinates is 0 (the max over nothing, as torch gives) ----------

def test_cdist_inf_over_zero_coordinates_is_zero():
    x1, x2 = _leaf(np.zeros((2, 3, 0))), _leaf(np.zeros((2, 4, 0)))
    d = tg.cdist(x1, x2, p=math.inf)
    assert tuple(d.shape) == (2, 3, 4)
    np.testing.assert_array_equal(d.detach().numpy(), np.zeros((2, 3, 4)))
    d.sum().backward()
    assert tuple(x1.grad.shape) == (2, 3, 0)
