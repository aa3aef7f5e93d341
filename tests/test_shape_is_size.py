"""x.shape is a tg.Size as torch's x.shape is a torch.Size: a tuple, read as a shape by the
legacy constructors (so tg.Tensor(x.shape) is zeros of that shape, while a plain tuple is data)."""
import numpy as np

import tensorgan as tg


def test_shape_is_a_size_and_still_a_tuple():
    x = tg.zeros(2, 3, 4)
    assert isinstance(x.shape, tg.Size) and isinstance(x.shape, tuple)
    assert x.shape == (2, 3, 4) and x.shape == x.size() and hash(x.shape) == hash((2, 3, 4))
    assert repr(x.shape) == "tensorgan.Size([2, 3, 4])"
    assert f"{x.shape}" == "(2, 3, 4)" and str(x.size()) == "(2, 3, 4)"   # messages read plainly
    assert isinstance(x.shape[1:], tg.Size) and x.shape[1:] == (3, 4) and x.shape[0] == 2
    assert x.shape.numel() == 24 and np.zeros(x.shape).shape == (2, 3, 4)


def test_legacy_constructor_reads_a_shape_as_a_shape_and_a_tuple_as_data():
    x = tg.ones(2, 3)
    assert tg.Tensor(x.shape).shape == (2, 3)              # torch.Tensor(x.shape): a shape
    assert tg.FloatTensor(x.shape).shape == (2, 3)
    assert x.new(x.shape).shape == (2, 3)
    assert tg.Tensor((2, 3)).tolist() == [2.0, 3.0]        # a plain tuple is data
