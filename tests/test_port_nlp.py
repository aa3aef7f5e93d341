"""Gaps found porting pytorch/tutorials' NLP / intermediate programs (char-RNN, seq2seq, DQN,
BiLSTM-CRF, spatial transformer) to tensorgan: each test fails without its fix."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeError, ShapeError
from tensorgan.utils.data import random_split


def test_shape_error_is_a_runtime_error_as_torch():
    # torch.cat / matmul shape mismatches raise RuntimeError; torch code catches that
    with pytest.raises(RuntimeError, match="concat"):
        tg.cat([tg.zeros(2, 5), tg.zeros(2, 3)])
    with pytest.raises(RuntimeError):
        tg.zeros(2, 3) @ tg.zeros(4, 2)
    with pytest.raises(ValueError):                 # still a ValueError, as before
        tg.cat([tg.zeros(2, 5), tg.zeros(2, 3)])
    assert issubclass(ShapeError, RuntimeError) and issubclass(ShapeError, ValueError)


def test_dtype_error_is_a_runtime_error_as_torch():
    total = tg.zeros(1, dtype=tg.int64)
    with pytest.raises(RuntimeError, match="in place"):
        total += tg.tensor([0.5])
    assert issubclass(DTypeError, RuntimeError) and issubclass(DTypeError, TypeError)


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax, F.softmin])
def test_implicit_softmax_dim_warning_points_at_the_callers_line(fn):
    x = tg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(x)
    assert len(caught) == 1 and "implicit dimension" in str(caught[0].message)
    assert caught[0].filename == __file__          # the user's line, as torch's warning
    np.testing.assert_allclose(out.numpy(), fn(x, dim=1).numpy())   # 2-D: dim 1


def test_generator_takes_torchs_device_argument():
    g = tg.Generator(device="cpu").manual_seed(2024)
    assert str(g.device) == "cpu" and g.initial_seed() == 2024
    assert str(tg.Generator("cpu").device) == "cpu"
    assert str(tg.Generator(tg.device("cpu")).device) == "cpu"
    assert str(tg.Generator(7).device) == "cpu" and tg.Generator(7).initial_seed() == 7
    with pytest.raises(tg.errors.ConfigError, match="device given twice"):
        tg.Generator("cpu", device="cpu")
    # the char-RNN tutorial's split
    a, b = (random_split(list(range(20)), [.85, .15], generator=tg.Generator(device="cpu").manual_seed(2024))
            for _ in range(2))
    assert (len(a[0]), len(a[1])) == (17, 3)
    assert list(a[0]) == list(b[0]) and sorted(list(a[0]) + list(a[1])) == list(range(20))


def test_affine_grid_and_grid_sample_warn_when_align_corners_is_left_out():
    # the spatial-transformer tutorial calls both without align_corners; torch warns at that line
    theta = tg.tensor(np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=np.float32))
    x = tg.tensor(np.arange(12.0, dtype=np.float32).reshape(1, 1, 3, 4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grid = F.affine_grid(theta, x.size())
        out = F.grid_sample(x, grid)
    assert [w.filename for w in caught] == [__file__, __file__]
    assert all("align_corners=False since 1.3.0" in str(w.message) for w in caught)
    np.testing.assert_allclose(out.numpy(), x.numpy(), atol=1e-6)    # identity theta: x back
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                # given: no warning
        F.grid_sample(x, F.affine_grid(theta, x.size(), align_corners=False), align_corners=False)
