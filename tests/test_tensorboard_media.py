"""SummaryWriter's add_video (GIF via Pillow), add_audio (16-bit WAV), add_custom_scalars and
add_mesh: events written here are read back with tensorboard's own loader and decoded (Pillow,
the wave module, the plugins' protobufs) against values worked out here."""
import glob
import io
import os
import wave

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError, ShapeError

pytest.importorskip("tensorboard", reason="the tensorboard package is not installed "
                    "(pip install 'tensorgan[tensorboard]')")
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader  # noqa: E402
from tensorboard.plugins.custom_scalar import layout_pb2  # noqa: E402
from tensorboard.plugins.mesh import plugin_data_pb2 as mesh_pb2  # noqa: E402

from tensorgan.utils.tensorboard import SummaryWriter  # noqa: E402


def _values(logdir):
    out = []
    for f in glob.glob(os.path.join(str(logdir), "events.out.tfevents.*")):
        for e in LegacyEventFileLoader(f).Load():
            if e.HasField("summary"):
                out.extend((v.tag, e.step, v) for v in e.summary.value)
    return out


def test_add_video_writes_a_gif_with_the_clips_tiled_per_frame(tmp_path):
    from PIL import Image, ImageSequence
    n, t, h, w = 5, 4, 2, 5           # 5 clips pad to 8: a 2 x 4 grid of 2 x 5 tiles (torch's)
    vid = np.zeros((n, t, 3, h, w), np.float32)
    for i in range(n):
        for k in range(t):
            vid[i, k, i % 3] = (k + 1) / t     # clip i lights channel i, brighter each frame
    with SummaryWriter(tmp_path) as writer:
        writer.add_video("clip", tg.tensor(vid), global_step=7, fps=10)
    [(tag, step, value)] = _values(tmp_path)
    assert (tag, step) == ("clip", 7)
    assert (value.image.height, value.image.width, value.image.colorspace) == (2 * h, 4 * w, 3)
    gif = Image.open(io.BytesIO(value.image.encoded_image_string))
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    assert len(frames) == t and gif.info["duration"] == 100
    for k, frame in enumerate(frames):
        level = int((k + 1) / t * 255)
        for i in range(8):
            r, c = divmod(i, 4)
            tile = frame[r * h:(r + 1) * h, c * w:(c + 1) * w].astype(int)
            want = np.zeros(3, int)
            if i < n:
                want[i % 3] = level
            assert np.abs(tile - want).max() <= 3, (k, i, tile[0, 0], want)   # GIF palette


def test_add_video_checks_its_input(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ShapeError, match=r"\(N, T, C, H, W\), got shape \(2, 3, 4, 5\)"):
            writer.add_video("v", np.zeros((2, 3, 4, 5)))
        with pytest.raises(ShapeError, match="1 or 3 channels, got 2"):
            writer.add_video("v", np.zeros((1, 2, 2, 4, 4)))
        with pytest.raises(ConfigError, match="fps must be a positive number"):
            writer.add_video("v", np.zeros((1, 2, 3, 4, 4)), fps=0)


def test_add_audio_writes_16_bit_wav(tmp_path):
    rate = 8000
    clip = np.sin(2 * np.pi * 440 * np.arange(400) / rate).astype(np.float32)
    with SummaryWriter(tmp_path) as writer:
        writer.add_audio("tone", tg.tensor(clip)[None], global_step=1, sample_rate=rate)
    [(tag, step, value)] = _values(tmp_path)
    assert (tag, step, value.audio.sample_rate, value.audio.length_frames) == ("tone", 1, rate, 400)
    assert value.audio.content_type == "audio/wav" and value.audio.num_channels == 1
    with wave.open(io.BytesIO(value.audio.encoded_audio_string)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, rate)
        pcm = np.frombuffer(wav.readframes(400), "<i2")
    np.testing.assert_allclose(pcm / 32767.0, clip, atol=1 / 32767 + 1e-7)


def test_add_audio_clips_with_a_warning_and_refuses_stereo(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.warns(UserWarning, match="outside"):
            writer.add_audio("loud", np.array([2.0, -3.0, 0.5]), sample_rate=100)
        with pytest.raises(ShapeError, match="mono"):
            writer.add_audio("stereo", np.zeros((2, 10)))
    with wave.open(io.BytesIO(_values(tmp_path)[0][2].audio.encoded_audio_string)) as wav:
        assert np.frombuffer(wav.readframes(3), "<i2").tolist() == [32767, -32767, 16383]


def test_add_custom_scalars_stores_the_layout(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_custom_scalars({"GAN": {"losses": ["Multiline", ["loss/D", "loss/G"]],
                                           "D(x)": ["Margin", ["d/mean", "d/lo", "d/hi"]]}})
        with pytest.raises(ConfigError, match="three tags"):
            writer.add_custom_scalars({"c": {"m": ["Margin", ["a", "b"]]}})
    [(tag, _, value)] = _values(tmp_path)
    assert tag == "custom_scalars__config__"
    assert value.metadata.plugin_data.plugin_name == "custom_scalars"
    layout = layout_pb2.Layout.FromString(value.tensor.string_val[0])
    [cat] = layout.category
    assert cat.title == "GAN" and [c.title for c in cat.chart] == ["losses", "D(x)"]
    assert list(cat.chart[0].multiline.tag) == ["loss/D", "loss/G"]
    s = cat.chart[1].margin.series[0]
    assert (s.value, s.lower, s.upper) == ("d/mean", "d/lo", "d/hi")


def test_add_mesh_stores_vertices_faces_and_colors(tmp_path):
    verts = np.arange(12, dtype=np.float32).reshape(1, 4, 3)
    faces = np.array([[[0, 1, 2], [0, 2, 3]]])
    colors = np.full((1, 4, 3), 200)
    with SummaryWriter(tmp_path) as writer:
        writer.add_mesh("tetra", tg.tensor(verts), colors=colors, faces=faces, global_step=2)
        with pytest.raises(ShapeError, match=r"vertex must be \(B, N, 3\)"):
            writer.add_mesh("bad", np.zeros((4, 3)))
    got = {tag: v for tag, _, v in _values(tmp_path)}
    assert sorted(got) == ["tetra_COLOR", "tetra_FACE", "tetra_VERTEX"]
    for tag, arr in (("tetra_VERTEX", verts), ("tetra_FACE", faces), ("tetra_COLOR", colors)):
        v = got[tag]
        assert [d.size for d in v.tensor.tensor_shape.dim] == list(arr.shape)
        np.testing.assert_array_equal(np.array(v.tensor.float_val), arr.reshape(-1))
        data = mesh_pb2.MeshPluginData.FromString(v.metadata.plugin_data.content)
        M = mesh_pb2.MeshPluginData
        assert data.name == "tetra" and data.components == (1 << M.VERTEX) | (1 << M.FACE) | (1 << M.COLOR)
