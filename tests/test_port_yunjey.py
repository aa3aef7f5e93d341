"""Gaps found porting yunjey/pytorch-tutorial (the GAN, DCGAN, VAE, ResNet and TensorBoard
tutorials) to tensorgan: SummaryWriter.add_embedding (the tutorial's logger_pytorch.py
embedding_summary), the 0-d index hint for the tutorial's old ``loss.data[0]``, and the
``update_lr`` idiom (param_group['lr'] set between steps). Expected values are worked out here."""
import io
import os

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import IndexOutOfRangeError, ShapeError

try:
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
    HAVE_TB = True
except ImportError:
    HAVE_TB = False
if HAVE_TB:
    from tensorgan.utils.tensorboard import SummaryWriter
needs_tb = pytest.mark.skipif(not HAVE_TB, reason="the tensorboard package is not installed")


def _config(logdir):
    with open(os.path.join(logdir, "projector_config.pbtxt")) as f:
        return text_format.Parse(f.read(), ProjectorConfig())


# -- SummaryWriter.add_embedding ----------------------------------------------------------------
@needs_tb
def test_add_embedding_tensors_metadata_and_config(tmp_path):
    mat = np.array([[0.5, -1.25], [3.0, 0.1]], dtype=np.float32)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_embedding(tg.tensor(mat), metadata=["cat", 7])          # step None -> 00000
        w.add_embedding(np.array([[1.0, 2.0], [3.0, 0.1]]), global_step=12, tag="a/b%c")
    d0 = tmp_path / "00000" / "default"
    # one row per point, tab-separated, each value as str() of its Python float
    rows = [r.split("\t") for r in (d0 / "tensors.tsv").read_text().splitlines()]
    assert rows == [[str(float(np.float32(v))) for v in row] for row in mat]
    assert rows[1][1] == "0.10000000149011612"                       # float32 0.1, widened
    assert (d0 / "metadata.tsv").read_text() == "cat\n7\n"
    d1 = tmp_path / "00012" / "a%2fb%25c"                              # '/' and '%' escaped
    assert (d1 / "tensors.tsv").read_text().splitlines()[1] == "3.0\t0.1"
    assert not (d1 / "metadata.tsv").exists()
    cfg = _config(str(tmp_path))                                       # both, in order
    assert [(e.tensor_name, e.tensor_path, e.metadata_path) for e in cfg.embeddings] == [
        ("default:00000", "00000/default/tensors.tsv", "00000/default/metadata.tsv"),
        ("a/b%c:00012", "00012/a%2fb%25c/tensors.tsv", "")]


@needs_tb
def test_add_embedding_metadata_header(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_embedding(np.zeros((2, 3)), metadata=[[1, "x"], [2, "y"]],
                        metadata_header=["id", "name"], tag="hdr")
        with pytest.raises(ShapeError, match="metadata_header has 3 columns"):
            w.add_embedding(np.zeros((2, 3)), metadata=[[1, "x"], [2, "y"]],
                            metadata_header=["id", "name", "z"], global_step=1)
    assert (tmp_path / "00000" / "hdr" / "metadata.tsv").read_text() == "id\tname\n1\tx\n2\ty\n"


@needs_tb
def test_add_embedding_sprite(tmp_path):
    from PIL import Image
    n, h, w = 5, 2, 3                  # 5 images -> 3 per row, 2 rows; square sprite 9 wide
    imgs = np.stack([np.full((1, h, w), (i + 1) / 10) for i in range(n)])   # gray, level (i+1)/10
    with SummaryWriter(str(tmp_path)) as wr:
        wr.add_embedding(np.ones((n, 2)), label_img=tg.tensor(imgs), global_step=3)
    px = np.asarray(Image.open(tmp_path / "00003" / "default" / "sprite.png"))
    assert px.shape == (9, 9, 3)
    for i in range(n):
        r, c = divmod(i, 3)
        tile = px[r * h:(r + 1) * h, c * w:(c + 1) * w]
        assert (tile == np.uint8((i + 1) / 10 * 255)).all()           # float64 *255, truncated
    assert (px[2 * h:, :] == 0).all() and (px[h:2 * h, 2 * w:] == 0).all()   # padding black
    e = _config(str(tmp_path)).embeddings[0]
    assert e.sprite.image_path == "00003/default/sprite.png"
    assert list(e.sprite.single_image_dim) == [w, h]


@needs_tb
def test_add_embedding_errors_and_rewrite_warning(tmp_path, capsys):
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(ShapeError, match="3 metadata labels for 4 data points"):
            w.add_embedding(np.zeros((4, 2)), metadata=["a", "b", "c"], global_step=1)
        with pytest.raises(ShapeError, match="mat must be 2-D"):
            w.add_embedding(np.zeros(4), global_step=2)
        with pytest.raises(ShapeError, match="label_img must be"):
            w.add_embedding(np.zeros((4, 2)), label_img=np.zeros((3, 1, 2, 2)), global_step=3)
        w.add_embedding(np.zeros((1, 2)), global_step=4)
        capsys.readouterr()
        w.add_embedding(np.zeros((1, 2)), global_step=4)
    assert "Embedding dir exists" in capsys.readouterr().out


# -- loss.data[0] on a 0-d tensor -----------------------------------------------------------------
def test_zero_dim_integer_index_points_at_item():
    loss = tg.tensor([1.0, 3.0]).mean()
    with pytest.raises(IndexError, match=r"0-dim tensor.*tensor\.item\(\)") as info:
        loss.data[0]
    assert isinstance(info.value, IndexOutOfRangeError)
    with pytest.raises(IndexOutOfRangeError, match="0-dim"):
        (loss * 2)[0]
    assert float(loss[None][0]) == 2.0 and float(loss[...]) == 2.0   # still fine
    with pytest.raises(IndexOutOfRangeError, match=r"shape \(2,\)"):  # others: unchanged
        tg.ones(2)[5]


# -- update_lr between steps -----------------------------------------------------------------------
def test_update_lr_idiom_changes_the_next_adam_step():
    """Adam's first two steps on a constant gradient g move by lr exactly (m_hat = g, v_hat = g^2,
    eps aside), so after lr /= 3 through param_groups the second step is a third of the first."""
    p = nn.Parameter(tg.tensor(np.array([1.0, -2.0])))
    opt = tg.optim.Adam([p], lr=0.3, eps=0.0)
    before = p.detach().numpy().copy()
    for lr in (0.3, 0.1):
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        (p * tg.tensor(np.array([2.0, -5.0]))).sum().backward()
        opt.step()
        after = p.detach().numpy().copy()
        np.testing.assert_allclose(after - before, [-lr, lr], rtol=1e-12)
        before = after
    assert opt.state_dict()["param_groups"][0]["lr"] == 0.1
