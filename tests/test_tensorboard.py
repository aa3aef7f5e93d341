"""tensorgan.utils.tensorboard.SummaryWriter (torch.utils.tensorboard's): events written with it are
read back with tensorboard's own loader and checked against values worked out here."""
import glob
import io
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError, InputTypeError, ShapeError

try:
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
    from tensorboard.plugins.hparams import plugin_data_pb2
    HAVE_TB = True
except ImportError:
    HAVE_TB = False
if HAVE_TB:                     # with tensorboard there, tensorgan's writer must import
    from tensorgan.utils.tensorboard import SummaryWriter
needs_tb = pytest.mark.skipif(not HAVE_TB, reason="the tensorboard package is not installed "
                              "(pip install 'tensorgan[tensorboard]')")


def _events(logdir):
    """Every event in logdir's own event files (not sub-runs'), in writing order, without the
    file_version event the EventFileWriter starts each file with."""
    files = glob.glob(os.path.join(str(logdir), "events.out.tfevents.*"))
    files.sort(key=lambda f: [int(p) for p in os.path.basename(f).split(".")[3:] if p.isdigit()])
    out = []
    for f in files:
        out.extend(e for e in LegacyEventFileLoader(f).Load()
                   if not e.HasField("source_metadata"))
    return out


def _values(logdir):
    """(tag, step, summary value) of every summary in logdir."""
    return [(v.tag, e.step, v) for e in _events(logdir) if e.HasField("summary")
            for v in e.summary.value]


def _pixels(value):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(value.image.encoded_image_string)))


def test_import_without_tensorboard_names_the_extra():
    code = ("import sys; sys.modules['tensorboard'] = None\n"
            "try:\n import tensorgan.utils.tensorboard\n"
            "except ImportError as e: print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "NUMBA_NUM_THREADS": "1"}, timeout=120).stdout
    assert "ERR" in out and "pip install 'tensorgan[tensorboard]'" in out


@needs_tb
def test_scalars_from_tensors_arrays_and_numbers(tmp_path):
    x = tg.tensor([0.3], requires_grad=True)
    loss = (x * 2).sum()                                     # a graph tensor: detached
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", loss, 0)
        w.add_scalar("loss", np.float64(0.125), 1)
        w.add_scalar("loss", np.array([[2.5]]), 2)             # one element: squeezed
        w.add_scalar("loss", 7, np.int64(3))                  # NumPy step -> int
        w.add_scalar("wall", 1.0, 0, walltime=42.5)
        w.add_scalar("dbl", 0.1, 0, new_style=True, double_precision=True)
    vals = _values(tmp_path)
    got = [(t, s, v.simple_value) for t, s, v in vals if t == "loss"]
    assert got == [("loss", 0, np.float32(0.6)), ("loss", 1, 0.125), ("loss", 2, 2.5),
                   ("loss", 3, 7.0)]
    assert [e.wall_time for e in _events(tmp_path) if e.summary.value[0].tag == "wall"] == [42.5]
    dbl = [v for t, _, v in vals if t == "dbl"][0]
    assert list(dbl.tensor.double_val) == [0.1]
    assert dbl.metadata.plugin_data.plugin_name == "scalars"


@needs_tb
def test_scalar_errors(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ShapeError, match="one element"):
            w.add_scalar("x", tg.ones(2), 0)
        with pytest.raises(InputTypeError, match="list"):
            w.add_scalar("x", [1.0], 0)


@needs_tb
def test_add_scalars_writes_one_run_per_tag(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for i in range(3):
            w.add_scalars("loss/gan", {"D": tg.tensor(float(i)), "G": 2.0 * i}, i)
    assert sorted(os.listdir(tmp_path))[1:] == ["loss_gan_D", "loss_gan_G"]
    for name, scale in (("loss_gan_D", 1), ("loss_gan_G", 2)):
        assert [(t, s, v.simple_value) for t, s, v in _values(tmp_path / name)] == \
            [("loss/gan", i, scale * i) for i in range(3)]


@needs_tb
def test_images_chw_hwc_hw_uint8(tmp_path):
    rng = np.random.default_rng(0)
    chw = rng.random((3, 4, 5)).astype(np.float32)
    chw[0, 0, :2] = [-0.5, 1.5]                                # clipped to 0 and 255
    hw = rng.random((4, 5))
    u8 = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_image("chw", tg.tensor(chw), 1)
        w.add_image("hwc", chw.transpose(1, 2, 0), 1, dataformats="HWC")
        w.add_image("hw", hw, 1, dataformats="HW")
        w.add_image("u8", u8, 1, dataformats="HWC")
        w.add_image("gray", tg.tensor(hw[None].astype(np.float32)), 1)
    vals = {t: v for t, _, v in _values(tmp_path)}
    want = (np.clip(chw.transpose(1, 2, 0) * np.float32(255), 0, 255)).astype(np.uint8)
    assert want[0, 0, 0] == 0 and want[0, 1, 0] == 255
    assert (_pixels(vals["chw"]) == want).all() and (_pixels(vals["hwc"]) == want).all()
    im = vals["chw"].image
    assert (im.height, im.width, im.colorspace) == (4, 5, 3)
    gray = np.floor(hw.astype(np.float32) * np.float32(255)).astype(np.uint8)
    assert (_pixels(vals["hw"]) == gray[..., None]).all() and _pixels(vals["hw"]).shape == (4, 5, 3)
    assert (_pixels(vals["gray"]) == gray[..., None]).all()
    assert (_pixels(vals["u8"]) == u8).all()


@needs_tb
def test_add_images_grid_is_eight_per_row_without_padding(tmp_path):
    rng = np.random.default_rng(1)
    batch = rng.integers(0, 256, (11, 3, 2, 3), dtype=np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_images("nchw", tg.tensor(batch), 0)
        w.add_images("nhwc", batch.transpose(0, 2, 3, 1), 0, dataformats="NHWC")
        w.add_images("n1hw", batch[:2, :1], 0)
    vals = {t: _pixels(v) for t, _, v in _values(tmp_path)}
    grid = vals["nchw"]
    assert grid.shape == (4, 24, 3)                          # 2 rows of 8 columns
    for i in range(16):
        r, c = divmod(i, 8)
        tile = grid[2 * r:2 * r + 2, 3 * c:3 * c + 3]
        assert (tile == (batch[i].transpose(1, 2, 0) if i < 11 else 0)).all()
    assert (vals["nhwc"] == grid).all()
    assert vals["n1hw"].shape == (2, 6, 3) and (vals["n1hw"][:, 3:, 1] == batch[1, 0]).all()


@needs_tb
def test_image_errors(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ShapeError, match=r"3-D image, got shape \(2, 3, 4, 5\)"):
            w.add_image("x", np.zeros((2, 3, 4, 5)))
        with pytest.raises(ConfigError, match="dataformats"):
            w.add_image("x", np.zeros((3, 4, 5)), dataformats="CHH")
        with pytest.raises(ShapeError, match="1 or 3 channels"):
            w.add_images("x", np.zeros((2, 2, 4, 5)))


@needs_tb
def test_histogram_default_bins_and_support(tmp_path):
    values = tg.tensor([0.5, 1.5, 1.5, -2.0, 0.0])
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("h", values, 3)
        w.add_histogram("e", np.array([1.5, 2.5, 2.6]), 4, bins=[0, 1, 2, 3, 4])
        w.add_histogram("m", np.arange(8.0) + 0.5, 5, bins=np.arange(9.0), max_bins=3)
        assert len(w.default_bins) == 2 * 774 + 1 and w.default_bins[774] == 0
    vals = {t: v.histo for t, _, v in _values(tmp_path)}
    h = vals["h"]
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (-2.0, 1.5, 5, 1.5, 8.75)
    pos = [1e-12]
    while pos[-1] * 1.1 < 1e20:
        pos.append(pos[-1] * 1.1)
    edges = [-p for p in reversed(pos)] + [0.0] + pos
    counts, _ = np.histogram([0.5, 1.5, 1.5, -2.0, 0.0], bins=edges)
    nz = np.flatnonzero(counts)
    assert list(h.bucket) == [0] + list(counts[nz[0]:nz[-1] + 1])   # one empty bucket left
    assert list(h.bucket_limit) == edges[nz[0]:nz[-1] + 2]
    assert sum(h.bucket) == 5
    e = vals["e"]                                           # counts 0,1,2,0 -> support 1..2
    assert list(e.bucket) == [0, 1, 2] and list(e.bucket_limit) == [1, 2, 3]
    m = vals["m"]                                           # 8 buckets in groups of 2 (padded)
    assert list(m.bucket) == [0, 2, 2, 2, 2] and list(m.bucket_limit) == [0, 2, 4, 6, 8]
    with SummaryWriter(tmp_path / "x") as w, pytest.raises(ShapeError, match="empty"):
        w.add_histogram("h", np.zeros(0))


@needs_tb
def test_text(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "lr **0.1** é", 2)
    [(tag, step, v)] = _values(tmp_path)
    assert (tag, step, v.metadata.plugin_data.plugin_name) == ("notes/text_summary", 2, "text")
    assert list(v.tensor.string_val) == ["lr **0.1** é".encode()]
    assert [d.size for d in v.tensor.tensor_shape.dim] == [1]


@needs_tb
def test_hparams_sub_run(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.01, "bs": 16, "opt": "adam", "skip": None, "beta": tg.tensor([0.5])},
                      {"hparam/fid": tg.tensor(12.5)},
                      hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="trial",
                      global_step=4)
        with pytest.raises(TypeError, match="dicts"):
            w.add_hparams([("lr", 1)], {})
        with pytest.raises(TypeError, match="hparam_domain_discrete"):
            w.add_hparams({"lr": 0.1}, {}, hparam_domain_discrete={"lr": ["a"]})
    assert os.listdir(tmp_path / "trial")
    vals = _values(tmp_path / "trial")
    assert [t for t, _, _ in vals] == ["_hparams_/experiment", "_hparams_/session_start_info",
                                       "_hparams_/session_end_info", "hparam/fid"]
    assert all(s == 4 for _, s, _ in vals) and vals[3][2].simple_value == 12.5
    data = [plugin_data_pb2.HParamsPluginData.FromString(v.metadata.plugin_data.content)
            for _, _, v in vals[:3]]
    exp = data[0].experiment
    assert [(i.name, i.type) for i in exp.hparam_infos] == [("lr", 3), ("bs", 3), ("opt", 1),
                                                           ("beta", 3)]   # FLOAT64=3, STRING=1
    assert [v.string_value for v in exp.hparam_infos[2].domain_discrete.values] == ["adam", "sgd"]
    assert [m.name.tag for m in exp.metric_infos] == ["hparam/fid"]
    hp = data[1].session_start_info.hparams
    assert (hp["lr"].number_value, hp["bs"].number_value, hp["opt"].string_value,
            hp["beta"].number_value, "skip" in hp) == (0.01, 16, "adam", 0.5, False)
    assert data[2].session_end_info.status == 1                 # STATUS_SUCCESS


@needs_tb
def test_purge_step_suffix_queue_and_reopen(tmp_path):
    w = SummaryWriter(tmp_path, purge_step=5, max_queue=3, flush_secs=7, filename_suffix=".gan")
    aw = w.file_writer.event_writer._async_writer
    assert aw._byte_queue.maxsize == 3 and aw._worker._flush_secs == 7
    w.add_scalar("x", 1.0, 5)
    w.flush()                                               # readable before close
    ev = _events(tmp_path)
    assert [(e.step, e.file_version, e.session_log.status) for e in ev[:2]] == \
        [(5, "brain.Event:2", 0), (5, "", 1)]               # SessionLog.START
    assert ev[2].summary.value[0].simple_value == 1.0
    w.close()
    w.close()                                               # twice: nothing
    w.add_scalar("x", 2.0, 6)                               # a new file, no second purge marker
    w.close()
    files = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert len(files) == 2 and all(f.endswith(".gan") for f in files)
    assert [(t, s) for t, s, _ in _values(tmp_path)] == [("x", 5), ("x", 6)]
    assert sum(e.HasField("session_log") for e in _events(tmp_path)) == 1


@needs_tb
def test_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as w:
        d = w.get_logdir()
    parent, name = os.path.split(d)
    assert parent == "runs" and name.endswith("_" + socket.gethostname() + "_lr0.1")
    assert len(name.split("_")[0]) == 5 and os.path.isdir(d)     # e.g. May04
    with SummaryWriter(str(tmp_path / "mine"), comment="ignored") as w:
        assert w.get_logdir() == str(tmp_path / "mine")


class _StandInFigure:
    """What add_figure asks of a matplotlib Figure through the Agg canvas, for machines without
    matplotlib (the test extra leaves it out): a size in pixels and one fill colour."""

    def __init__(self, width, height, rgb):
        self.size, self.rgb, self.canvas = (width, height), rgb, None


def _stand_in_matplotlib(monkeypatch):
    """A minimal ``matplotlib`` (pyplot.close, backend_agg.FigureCanvasAgg) in sys.modules."""
    import sys
    import types

    class FigureCanvasAgg:
        def __init__(self, figure):
            self.figure, figure.canvas = figure, self

        def draw(self):
            pass

        def get_width_height(self):
            return self.figure.size

        def buffer_rgba(self):
            w, h = self.figure.size
            pixel = np.array(list(self.figure.rgb) + [255], dtype=np.uint8)
            return np.tile(pixel, (h, w, 1)).tobytes()

    closed = []
    mpl = types.ModuleType("matplotlib")
    pyplot = types.ModuleType("matplotlib.pyplot")
    pyplot.close = closed.append
    backends = types.ModuleType("matplotlib.backends")
    agg = types.ModuleType("matplotlib.backends.backend_agg")
    agg.FigureCanvasAgg = FigureCanvasAgg
    mpl.pyplot, mpl.backends, backends.backend_agg = pyplot, backends, agg
    for name, module in (("matplotlib", mpl), ("matplotlib.pyplot", pyplot),
                         ("matplotlib.backends", backends),
                         ("matplotlib.backends.backend_agg", agg)):
        monkeypatch.setitem(sys.modules, name, module)
    return closed


@needs_tb
def test_add_figure(tmp_path, monkeypatch):
    try:
        from matplotlib.figure import Figure
    except ImportError:      # no matplotlib here: the call names the extra, then a stand-in Agg
        with SummaryWriter(tmp_path / "without") as w:
            with pytest.raises(ImportError, match=r"tensorgan\[plot\]"):
                w.add_figure("x", _StandInFigure(2, 1, (0, 0, 0)), 0)
        closed = _stand_in_matplotlib(monkeypatch)
        figs = [_StandInFigure(20, 10, rgb) for rgb in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    else:
        closed = None
        figs = [Figure(figsize=(1, 0.5), dpi=20, facecolor=c) for c in ("red", "blue", "lime")]
    with SummaryWriter(tmp_path) as w:
        w.add_figure("one", figs[0], 0)
        w.add_figure("two", figs[1:], 0)
    vals = {t: _pixels(v) for t, _, v in _values(tmp_path)}
    assert vals["one"].shape == (10, 20, 3) and (vals["one"] == [255, 0, 0]).all()
    assert vals["two"].shape == (10, 40, 3)
    assert (vals["two"][:, :20] == [0, 0, 255]).all() and (vals["two"][:, 20:] == [0, 255, 0]).all()
    if closed is not None:
        assert closed == figs            # close=True: each figure closed once, as torch's


@needs_tb
def test_pr_curve_counts_at_each_threshold(tmp_path):
    labels = tg.tensor([1, 0, 1, 1, 0])
    preds = np.array([0.9, 0.8, 0.4, 0.2, 0.1])              # thresholds 0, 0.5, 1
    with SummaryWriter(tmp_path) as w:
        w.add_pr_curve("pr", labels, preds, 2, num_thresholds=3)
        with pytest.raises(ShapeError, match="differ in shape"):
            w.add_pr_curve("pr", labels, preds[:3], 2)
        with pytest.raises(NotImplementedError, match="add_graph"):
            w.add_graph(tg.nn.Linear(2, 2), tg.ones(1, 2))
    [(tag, step, v)] = _values(tmp_path)
    assert (tag, step, v.metadata.plugin_data.plugin_name) == ("pr", 2, "pr_curves")
    assert [d.size for d in v.tensor.tensor_shape.dim] == [6, 3]
    got = np.array(v.tensor.float_val).reshape(6, 3)
    want = [[3, 1, 0], [2, 1, 0], [0, 1, 2], [0, 2, 3], [3 / 5, 1 / 2, 0], [1, 1 / 3, 0]]
    np.testing.assert_allclose(got, np.array(want, np.float32), rtol=1e-7)
