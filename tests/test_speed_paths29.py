"""Session 29 speed paths: the direct depthwise convolution (groups == C_in on the CPU) -- values
against a float64 NumPy reference, gradients by finite differences, double backward."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.functional import DepthwiseConv


def _depthwise_ref(x, w, b, stride, padding, dilation):
    """Direct depthwise cross-correlation in float64: output channel o reads input channel o // m."""
    n, c, h, wd = x.shape
    co, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    src = np.repeat(xp, co // c, axis=1)
    y = np.zeros((n, co, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = src[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
            y += patch * w[:, 0, i, j].reshape(1, co, 1, 1)
    return y + (0 if b is None else b.reshape(1, -1, 1, 1))


# (x shape, C_out, kernel, stride, padding, dilation): 3x3 same, a 1-D row, strides and dilations
# together, a depth multiplier of 2, windows leaving trailing input unread, padding > kernel
CASES = [
    ((2, 3, 6, 7), 3, (3, 3), (1, 1), (1, 1), (1, 1)),
    ((2, 4, 1, 23), 4, (1, 7), (1, 1), (0, 3), (1, 1)),
    ((2, 3, 9, 11), 6, (3, 2), (2, 3), (1, 2), (2, 1)),
    ((1, 2, 8, 8), 2, (3, 3), (3, 2), (0, 0), (1, 2)),
    ((2, 2, 3, 5), 4, (2, 2), (1, 2), (3, 2), (1, 1)),
]


@pytest.mark.parametrize("case", CASES)
def test_depthwise_values_and_gradients(case):
    shape, co, k, stride, padding, dilation = case
    rs = np.random.RandomState(1)
    x, w, b = rs.randn(*shape), rs.randn(co, 1, *k), rs.randn(co)
    xt, wt, bt = (tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride, padding, dilation, shape[1])
    assert type(y.grad_fn) is DepthwiseConv
    np.testing.assert_allclose(y.detach().numpy(), _depthwise_ref(x, w, b, stride, padding, dilation),
                               rtol=1e-12, atol=1e-12)
    assert tg.autograd.gradcheck(lambda a, c, d: F.conv2d(a, c, d, stride, padding, dilation, shape[1]),
                                 (xt, wt, bt))


def test_depthwise_double_backward():
    rs = np.random.RandomState(2)
    xt = tg.tensor(rs.randn(2, 3, 5, 6), dtype=tg.float64, requires_grad=True)
    wt = tg.tensor(rs.randn(6, 1, 3, 2), dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda a, c: F.conv2d(a, c, None, (2, 1), (1, 1), (1, 2), 3), (xt, wt))


def test_depthwise_conv1d_float32_and_layer():
    rs = np.random.RandomState(3)
    x, w, b = rs.randn(3, 8, 300), rs.randn(8, 1, 15), rs.randn(8)
    xt = tg.tensor(x.astype(np.float32), requires_grad=True)
    conv = tg.nn.Conv1d(8, 8, 15, padding=7, groups=8)
    conv.load_state_dict({"weight": tg.tensor(w.astype(np.float32)), "bias": tg.tensor(b.astype(np.float32))})
    y = conv(xt)
    assert y.dtype == tg.float32 and y.shape == (3, 8, 300)
    ref = _depthwise_ref(x[:, :, None], w[:, :, None], b, (1, 1), (0, 7), (1, 1))[:, :, 0]
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-4, atol=1e-4)
    gy = rs.randn(3, 8, 300)
    y.backward(tg.tensor(gy.astype(np.float32)))
    # x's gradient is the adjoint: <gy, conv(dx)> = <gx, dx> for the bias-free conv; w's is gy (x) x
    xpad = np.pad(x, ((0, 0), (0, 0), (7, 7)))
    gw = np.stack([np.einsum("ncl,ncl->c", gy, xpad[:, :, q:q + 300]) for q in range(15)], -1)[:, None]
    np.testing.assert_allclose(conv.weight.grad.numpy(), gw, rtol=1e-4, atol=1e-3)
    gpad = np.zeros_like(xpad)
    for q in range(15):
        gpad[:, :, q:q + 300] += gy * w[:, 0, q].reshape(1, 8, 1)
    np.testing.assert_allclose(xt.grad.numpy(), gpad[:, :, 7:-7], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(conv.bias.grad.numpy(), gy.sum((0, 2)), rtol=1e-5, atol=1e-4)


def test_depthwise_only_weight_grad_and_channels_last():
    rs = np.random.RandomState(4)
    x = rs.randn(2, 4, 5, 5).astype(np.float32)
    w = tg.tensor(rs.randn(4, 1, 3, 3).astype(np.float32), requires_grad=True)
    xc = tg.tensor(x).contiguous(memory_format=tg.channels_last)
    y = F.conv2d(xc, w, None, 1, 1, 1, 4)
    assert y.is_contiguous(memory_format=tg.channels_last)      # (torch keeps the layout)
    np.testing.assert_allclose(y.detach().numpy(), _depthwise_ref(x, w.detach().numpy(), None, (1, 1), (1, 1), (1, 1)),
                               rtol=1e-5, atol=1e-5)
    y.sum().backward()
    assert w.grad.shape == (4, 1, 3, 3) and np.isfinite(w.grad.numpy()).all()


def test_other_grouped_convs_keep_their_paths():
    x = tg.randn(2, 4, 6, 6)
    assert type(F.conv2d(x, tg.randn(4, 2, 3, 3), groups=2).grad_fn) is not DepthwiseConv
    assert F.conv2d(x.half(), tg.randn(4, 1, 3, 3).half(), groups=4).dtype == tg.float16
    one = F.conv2d(tg.randn(2, 1, 6, 6, requires_grad=True), tg.randn(3, 1, 3, 3), groups=1)
    assert type(one.grad_fn) is not DepthwiseConv


def test_depthwise_node_has_torchs_name():
    y = F.conv2d(tg.randn(1, 2, 4, 4, requires_grad=True), tg.randn(2, 1, 3, 3), groups=2)
    assert type(y.grad_fn) is DepthwiseConv and y.grad_fn.name() == "ConvolutionBackward0"


# -- checkpoints: the npz writer and the stored-member reader -------------------------------------
def _odd_arrays():
    rs = np.random.RandomState(5)
    return {"f": np.asfortranarray(rs.randn(3, 4)), "strided": rs.randn(4, 6)[:, ::2],
            "scalar": np.array(2.5, np.float32), "empty": np.zeros((0, 3)), "mask": rs.rand(5) > 0.5,
            "half": rs.randn(7).astype(np.float16), "big_endian": np.arange(6, dtype=">i4").reshape(2, 3),
            "text": np.array("a json string"), "u8": np.arange(256, dtype=np.uint8)}


def test_checkpoint_file_is_np_savez_format_and_round_trips(tmp_path):
    from tensorgan import checkpoint as ckpt
    arrays = _odd_arrays()
    path = tmp_path / "c.npz"
    ckpt.save_checkpoint(path, {"a": arrays, "step": 3})
    with np.load(path, allow_pickle=False) as npz:         # plain NumPy reads it
        for name, value in arrays.items():
            np.testing.assert_array_equal(npz[f"a/{name}"], value)
            assert npz[f"a/{name}"].dtype == value.dtype
    back = ckpt.load_checkpoint(path)
    assert back["step"] == 3
    for name, value in arrays.items():
        assert back["a"][name].dtype == value.dtype and back["a"][name].shape == value.shape
        np.testing.assert_array_equal(back["a"][name], value)
    assert back["a"]["f"].flags.f_contiguous and back["a"]["f"].flags.writeable


def test_tg_save_load_file_objects_and_np_savez_compressed(tmp_path):
    import io
    sd = {"w": tg.tensor(np.arange(12.0).reshape(3, 4)), "b": tg.zeros(3)}
    buffer = io.BytesIO()
    tg.save(sd, buffer)
    back = tg.load(io.BytesIO(buffer.getvalue()))
    np.testing.assert_array_equal(back["w"].numpy(), np.arange(12.0).reshape(3, 4))
    # a deflated .npz (np.savez_compressed of the same entries) still loads, through np.load
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as npz:
        entries = {name: npz[name] for name in npz.files}
    np.savez_compressed(tmp_path / "z.npz", **entries)
    np.testing.assert_array_equal(tg.load(tmp_path / "z.npz")["w"].numpy(), back["w"].numpy())


def test_damaged_stored_checkpoints_are_checkpoint_errors(tmp_path):
    from tensorgan.errors import CheckpointError
    path = tmp_path / "c.npz"
    tg.save({"w": tg.tensor(np.arange(1000.0))}, path)
    raw = path.read_bytes()
    at = raw.index(np.arange(1000.0)[500:502].tobytes())        # inside w's data
    flipped = tmp_path / "flipped.npz"
    flipped.write_bytes(raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1:])
    with pytest.raises(CheckpointError, match="CRC"):
        tg.load(flipped)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(raw[:at] + raw[-200:])        # the central directory kept, the data cut
    with pytest.raises(CheckpointError, match="truncated.npz: entry .* does not hold"):
        tg.load(truncated)
