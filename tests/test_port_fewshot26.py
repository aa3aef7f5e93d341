"""Session 26: few-shot GAN adaptation, ported at tiny sizes and run beside torch 2.13 in float64
with identical weights -- FreezeD (sangwoomo/FreezeD's stylegan/finetune.py: the discriminator's
lower layers frozen by requires_grad flags matched on parameter names, R1, feature-matching and
L2-to-source regularisers, the style group at lr * 0.01 with an extra 'mult' key, the G EMA),
MineGAN (the miner in front of a frozen G, only the miner optimised), EWC (Fisher information of
G's parameters from squared gradients of the D-based loss, three ways: autograd.grad with
allow_unused and in-place .data sums, per-batch backward, per-sample stacked grads; buffers named
``a__b_estimated_fisher``; the quadratic penalty), CDC (utkarshojha/few-shot-gan-adaptation: the
softmax over pairwise cosine similarities written element by element into a zeros tensor, KL
against the frozen source G's, the patch-level discriminator with an Extra head picked by a NumPy
integer, anchor latents picked by a NumPy index array) and DVD-GAN's dual discriminators.
Losses, gradients, parameters, optimizer state counts and None-gradients of frozen parts agreed
to 3e-13.  What differed, and is fixed: ``x[i, j] = v`` with ``v`` of shape (1,) (CDC's
``dist[p1, c] = cosine_similarity(a, b)``) was refused (torch drops the value's leading length-1
dims for every index), and a value that cannot fit raised NumPy's bare ValueError on a tracked
tensor.  No torch here: the checks are invariants, NumPy and finite differences."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F
from tensorgan.errors import ShapeError


# -- x[i, j] = one-element tensor (CDC's distance matrix) -----------------------------------------
def test_single_element_write_takes_a_one_element_tensor():
    x = tg.zeros(2, 3, dtype=tg.float64)
    x[0, 1] = tg.tensor([0.5], dtype=tg.float64)
    x[1, 2] = tg.tensor([[0.7]], dtype=tg.float64)
    np.testing.assert_array_equal(x.numpy(), [[0, 0.5, 0], [0, 0, 0.7]])


def test_single_element_write_passes_the_gradient_back_in_the_value_shape():
    v = tg.tensor([[2.0]], dtype=tg.float64, requires_grad=True)
    y = tg.zeros(2, 3, dtype=tg.float64)
    y[1, 1] = v
    (y * y).sum().backward()
    assert v.grad.shape == (1, 1) and float(v.grad[0, 0]) == 4.0


@pytest.mark.parametrize("grad", [False, True])
def test_a_value_that_does_not_fit_is_a_shape_error(grad):
    v = tg.tensor([1.0, 2.0], requires_grad=grad)
    y = tg.zeros(2, 3)
    for key in ((0, 1), (0, slice(None))):
        with pytest.raises(RuntimeError, match="shape") as info:
            y[key] = v
        assert isinstance(info.value, ShapeError)
