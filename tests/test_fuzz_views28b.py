"""Cases found by differential fuzzing of views, in-place writes and autograd against torch
(session 28, second round): each a small program checked against NumPy or by hand."""
import numpy as np
import pytest

import tensorgan as tg


def _leaf(values):
    return tg.tensor(np.asarray(values, dtype=np.float64), dtype=tg.float64, requires_grad=True)


def _f64(values):
    return tg.tensor(np.asarray(values, dtype=np.float64), dtype=tg.float64)


# --- under no_grad, an op's argument error comes before the refusal to write a saved output ------

def test_index_add_0d_source_under_no_grad_on_a_saved_output_is_an_index_error():
    t = _leaf(np.ones((3, 2, 1))).tanh()        # tanh saved its output
    with tg.no_grad(), pytest.raises(IndexError, match="0-d"):
        t.index_add_(0, tg.tensor([0, 1]), _f64(1.0))


def test_write_under_no_grad_on_a_saved_output_is_still_refused_with_valid_arguments():
    t = _leaf(np.ones((3, 2))).tanh()
    before = t.detach().numpy().copy()
    with tg.no_grad(), pytest.raises(RuntimeError, match="graph saved"):
        t.index_add_(0, tg.tensor([0, 1]), _f64(np.ones((2, 2))))
    np.testing.assert_array_equal(t.detach().numpy(), before)    # the dry run wrote a copy
