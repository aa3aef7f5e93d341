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


def f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=tg.float64, requires_grad=requires_grad)


def test_grid_sample_bicubic_weights_from_first_principles():
    # cubic convolution (A = -0.75) at t = 0.5: taps -1, 0, 1, 2 weigh -3/32, 19/32, 19/32, -3/32
    row = np.array([1.0, 4.0, -2.0, 8.0, 5.0])
    x = f64(row.reshape(1, 1, 1, 5))
    # align_corners=True: normalized g -> pixel (g + 1) / 2 * (W - 1); pixel 1.5 is g = -0.25
    out = F.grid_sample(x, f64([[[[-0.25, 0.0]]]]), mode="bicubic", padding_mode="zeros", align_corners=True)
    w = np.array([-3, 19, 19, -3]) / 32
    assert out.item() == pytest.approx(w @ row[0:4], abs=1e-12)
    # on pixel centres (t = 0) it reads the pixel itself; border padding repeats the edge taps
    out = F.grid_sample(x, f64([[[[-1.0, 0.0], [0.5, 0.0]]]]), mode="bicubic", padding_mode="border",
                        align_corners=True)
    np.testing.assert_allclose(out.numpy().ravel(), [1.0, 8.0], atol=1e-12)
    # pixel -0.5 with zeros padding: taps at -2, -1 read 0
    out = F.grid_sample(x, f64([[[[-1.25, 0.0]]]]), mode="bicubic", padding_mode="zeros", align_corners=True)
    assert out.item() == pytest.approx(w @ np.array([0.0, 0.0, 1.0, 4.0]), abs=1e-12)
    # reflection (align_corners=True mirrors about pixel 0): taps -2, -1 read pixels 2, 1
    out = F.grid_sample(x, f64([[[[-1.25, 0.0]]]]), mode="bicubic", padding_mode="reflection", align_corners=True)
    assert out.item() == pytest.approx(w @ row[[2, 1, 0, 1]], abs=1e-12)


def _cubic(t):
    a = -0.75
    near = lambda d: ((a + 2) * d - (a + 3)) * d * d + 1
    far = lambda d: ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.array([far(t + 1), near(t), near(1 - t), far(2 - t)])


def test_grid_sample_bicubic_matches_a_numpy_loop_and_has_gradients():
    rng = np.random.default_rng(0)
    img = rng.standard_normal((6, 7))
    grid = rng.uniform(-1.2, 1.2, (3, 4, 2))
    out = F.grid_sample(f64(img[None, None]), f64(grid[None]), mode="bicubic", align_corners=False)
    for i in range(3):
        for j in range(4):
            px, py = ((grid[i, j, 0] + 1) * 7 - 1) / 2, ((grid[i, j, 1] + 1) * 6 - 1) / 2
            x0, y0 = int(np.floor(px)), int(np.floor(py))
            read = lambda r, c: img[r, c] if 0 <= r < 6 and 0 <= c < 7 else 0.0
            taps = np.array([[read(y0 + dy, x0 + dx) for dx in (-1, 0, 1, 2)] for dy in (-1, 0, 1, 2)])
            want = _cubic(py - y0) @ taps @ _cubic(px - x0)
            assert out.numpy()[0, 0, i, j] == pytest.approx(want, abs=1e-12)
    flat = F.grid_sample(f64(np.full((1, 1, 6, 7), 2.5)), f64(grid[None]), mode="bicubic",
                         padding_mode="border", align_corners=False)
    np.testing.assert_allclose(flat.numpy(), 2.5, atol=1e-12)        # weights sum to 1
    inp = f64(rng.standard_normal((2, 2, 4, 5)), True)
    g = f64(rng.uniform(-1.3, 1.3, (2, 3, 2, 2)), True)
    for padding_mode in ("zeros", "border", "reflection"):
        for corners in (False, True):
            assert tg.gradcheck(lambda a, b: F.grid_sample(a, b, mode="bicubic", padding_mode=padding_mode,
                                                          align_corners=corners), [inp, g])


def test_uint8_index_is_a_mask_as_torchs_legacy_byte_mask():
    # the old DQN tutorial: non_final_mask = torch.ByteTensor(...); next_values[non_final_mask] = ...
    q = tg.tensor(np.arange(15.0, dtype=np.float32).reshape(5, 3))
    mask = tg.tensor(np.array([1, 0, 1, 1, 0], dtype=np.uint8))
    with pytest.warns(UserWarning, match="uint8") as caught:
        picked = q[mask]
    assert caught[0].filename == __file__
    np.testing.assert_array_equal(picked.numpy(), q.numpy()[[0, 2, 3]])
    v = tg.zeros(5, requires_grad=False)
    with pytest.warns(UserWarning, match="uint8"):
        v[mask] = tg.tensor([1.0, 2.0, 3.0])
    assert v.tolist() == [1.0, 0.0, 2.0, 3.0, 0.0]
    w = tg.tensor(np.ones(5, dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="uint8"):
        (w[mask] * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 2.0, 2.0, 0.0]
    with pytest.warns(UserWarning, match="uint8"):
        assert q[:, tg.tensor(np.array([0, 1, 1], dtype=np.uint8))].shape == (5, 2)
    assert q[tg.tensor([1, 0, 1])].tolist() == [q[1].tolist(), q[0].tolist(), q[1].tolist()]  # int64: positions


def test_affine_grid_and_grid_sample_in_3d():
    rng = np.random.default_rng(1)
    # identity theta over the input's own size reads every voxel back (align_corners either way)
    vol = rng.standard_normal((2, 3, 4, 5, 6))
    eye = np.tile(np.eye(3, 4), (2, 1, 1))
    for corners in (False, True):
        grid = F.affine_grid(f64(eye), (2, 3, 4, 5, 6), align_corners=corners)
        assert grid.shape == (2, 4, 5, 6, 3)
        for mode in ("bilinear", "nearest"):
            out = F.grid_sample(f64(vol), grid, mode=mode, align_corners=corners)
            np.testing.assert_allclose(out.numpy(), vol, atol=1e-12)
    # the grid is theta @ (x, y, z, 1) with x along W, y along H, z along D (align_corners=True: -1..1)
    theta = rng.standard_normal((1, 3, 4))
    grid = F.affine_grid(f64(theta), (1, 1, 2, 3, 4), align_corners=True).numpy()
    z, y, x = np.meshgrid(np.linspace(-1, 1, 2), np.linspace(-1, 1, 3), np.linspace(-1, 1, 4), indexing="ij")
    np.testing.assert_allclose(grid[0], np.stack([x, y, z, np.ones_like(x)], -1) @ theta[0].T, atol=1e-12)
    # trilinear interpolation is exact on a linear function inside the volume
    zz, yy, xx = np.meshgrid(np.arange(4.0), np.arange(5.0), np.arange(6.0), indexing="ij")
    lin = f64((1.5 * zz - 2 * yy + 0.5 * xx + 3)[None, None])
    pts = rng.uniform([0, 0, 0], [5, 4, 3], (1, 2, 3, 4, 3))                 # (x, y, z) pixels
    g = pts / np.array([5.0, 4.0, 3.0]) * 2 - 1
    out = F.grid_sample(lin, f64(g), align_corners=True).numpy()[0, 0]
    np.testing.assert_allclose(out, 1.5 * pts[0, ..., 2] - 2 * pts[0, ..., 1] + 0.5 * pts[0, ..., 0] + 3, atol=1e-12)
    # gradients, every padding mode
    inp = f64(rng.standard_normal((1, 2, 3, 3, 4)), True)
    g = f64(rng.uniform(-1.3, 1.3, (1, 2, 2, 2, 3)), True)
    for padding_mode in ("zeros", "border", "reflection"):
        assert tg.gradcheck(lambda a, b: F.grid_sample(a, b, padding_mode=padding_mode, align_corners=False),
                            [inp, g])
    with pytest.raises(RuntimeError, match="bicubic"):      # torch: RuntimeError (a ShapeError here)
        F.grid_sample(inp, g, mode="bicubic", align_corners=False)
    with pytest.raises(ShapeError, match="5-D"):
        F.grid_sample(inp, f64(np.zeros((1, 2, 2, 2))), align_corners=False)


def test_grad_of_an_unreached_input_is_a_runtime_error_naming_a_freed_graph():
    # torch: RuntimeError "One of the differentiated Tensors appears to not have been used";
    # here the usual cause in ported code, a shared sub-graph freed by an earlier grad, is named
    theta = tg.tensor(np.ones((1, 2, 3)), dtype=tg.float64, requires_grad=True)
    x = tg.tensor(np.ones((1, 1, 3, 3)), dtype=tg.float64, requires_grad=True)
    grid = F.affine_grid(theta, (1, 1, 3, 3), align_corners=False)
    tg.autograd.grad(F.grid_sample(x, grid, align_corners=False).sum(), [x, theta])
    with pytest.raises(RuntimeError, match=r"inputs\[1\].*freed by an earlier backward"):
        tg.autograd.grad(F.grid_sample(x, grid, align_corners=False).sum(), [x, theta])
    with pytest.raises(RuntimeError, match=r"inputs\[0\].*does not require grad"):      # torch's type
        tg.autograd.grad((theta * 2).sum(), [tg.ones(2)])
