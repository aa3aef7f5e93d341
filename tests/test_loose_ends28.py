"""Session 28's loose ends: one broadcast check, MNIST hashed once, the eval warning once a run,
CPU conv kernels on non-C-contiguous arrays."""
import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.broadcasting import broadcast_shape
from tensorgan.data.idx import write_idx
from tensorgan.errors import ShapeError


# ---- one broadcast check (tensorgan.broadcasting.broadcast_shape) ----------------------------
def test_broadcast_shape_returns_numpys_shape():
    assert broadcast_shape("unused {0}", (2, 1, 3), (4, 1), ()) == np.broadcast_shapes((2, 1, 3), (4, 1))


def test_broadcast_shape_error_formats_shapes_and_fields():
    with pytest.raises(ShapeError, match=r"^op: \(2, 3\) vs \(4,\) in x \(9, 2, 3\)$") as info:
        broadcast_shape("{op}: {0} vs {1} in x {x}", (2, 3), (4,), op="op", x=(9, 2, 3))
    assert isinstance(info.value, RuntimeError) and info.value.__cause__ is None


def test_broadcast_shape_message_built_only_on_failure():
    broadcast_shape("{missing_field}", (2, 3), (3,))       # no KeyError: never formatted


@pytest.mark.parametrize("call, message", [
    (lambda a, b: tg.normal(a, b.abs()), r"normal: mean \(2, 3\) and std \(4, 5\) do not broadcast together"),
    (lambda a, b: a.logical_and(b), r"logical_and: shapes \(2, 3\) and \(4, 5\) do not broadcast"),
    (lambda a, b: tg.where(tg.ones(7).bool(), a, b), r"where: shapes \(7,\) \(condition\), \(2, 3\) and \(4, 5\)"),
    (lambda a, b: tg.take_along_dim(a, tg.zeros(4, 1, dtype=tg.int64), dim=1),
     r"take_along_dim: input \(2, 3\) and indices \(4, 1\) do not broadcast off dim 1"),
    (lambda a, b: tg.linalg.solve(tg.eye(2).expand(3, 2, 2), tg.ones(4, 2, 1)),
     r"linalg.solve: the batch dims of A \(3, 2, 2\) and B \(4, 2, 1\) do not broadcast"),
])
def test_ops_keep_their_broadcast_messages(call, message):
    with pytest.raises(ShapeError, match=message):
        call(tg.ones(2, 3), tg.ones(4, 5))


# ---- MNIST hashed once: the load's SHA-256 check also says "these are MNIST's images" ----------
BUNDLED = Path(__file__).resolve().parents[1] / "tensorgan" / "data"
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _folder_of_bundled(tmp_path, sums=None, raw=False):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in TEST_FILES:
        if raw:
            (folder / name.removesuffix(".gz")).write_bytes(gzip.decompress((BUNDLED / name).read_bytes()))
        else:
            shutil.copy(BUNDLED / name, folder / name)
    if sums is not None:
        (folder / "SHA256SUMS").write_text("".join(f"{d}  {n}\n" for n, d in sums.items()))
    return folder


@pytest.mark.parametrize("raw", [False, True])
def test_verified_load_marks_mnist(tmp_path, raw):
    from tensorgan.data.mnist import load_mnist
    assert load_mnist("test", _folder_of_bundled(tmp_path, raw=raw)).verified_mnist is True


def test_sums_file_listing_mnists_digests_marks_mnist(tmp_path):
    from tensorgan.data.mnist import MNIST_GZ_SHA256, load_mnist
    folder = _folder_of_bundled(tmp_path, {n: MNIST_GZ_SHA256[n] for n in TEST_FILES})
    assert load_mnist("test", folder).verified_mnist is True


def test_sums_file_marks_by_whose_digests_it_lists(tmp_path):
    from tensorgan.data.mnist import load_bundled_mnist, load_mnist
    assert load_bundled_mnist(verify=False).verified_mnist is False
    folder = _folder_of_bundled(tmp_path)
    sums = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in TEST_FILES}
    (folder / "SHA256SUMS").write_text("".join(f"{d.upper()}  {n}\n" for n, d in sums.items()))
    assert load_mnist("test", folder).verified_mnist is True      # (MNIST's digests, upper case)
    other = tmp_path / "other"
    other.mkdir()
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    write_idx(other / "t10k-images-idx3-ubyte", images)
    write_idx(other / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8))
    own = {n: hashlib.sha256((other / n).read_bytes()).hexdigest() for n in ("t10k-images-idx3-ubyte",
                                                                            "t10k-labels-idx1-ubyte")}
    (other / "SHA256SUMS").write_text("".join(f"{d}  {n}\n" for n, d in own.items()))
    assert load_mnist("test", other).verified_mnist is False


def test_trained_on_mnist_does_not_hash_verified_images_again(monkeypatch):
    from tensorgan import cli
    from tensorgan.data import mnist
    dataset = mnist.load_bundled_mnist()
    monkeypatch.setattr(mnist, "is_mnist_images", lambda images: pytest.fail("hashed again"))
    assert cli._trained_on_mnist("mnist", dataset, {}) is True
    unverified = mnist.load_bundled_mnist(verify=False)
    monkeypatch.setattr(mnist, "is_mnist_images", lambda images: False)
    assert cli._trained_on_mnist("mnist", unverified, {}) is False


# ---- --eval-every's "trained on other data" warning: once a run, not again on --resume ------------
class _StubTrainer:
    image_shape = (1, 28, 28)
    run_dir = None
    step = 0

    class config:
        latent_dim = 4

    def __init__(self, meta):
        self.meta = meta


def test_eval_hook_warns_once_a_run():
    from tensorgan.evaluate_cli import make_eval_hook
    written = []
    trainer = _StubTrainer({"dataset": "folder:/x"})
    make_eval_hook(trainer, 1, num_samples=2, write=written.append)
    assert len(written) == 1 and "--dataset folder:/x" in written[0]
    resumed = _StubTrainer(dict(trainer.meta))            # the meta a checkpoint carries over
    make_eval_hook(resumed, 1, num_samples=2, write=written.append)
    assert len(written) == 1
    resumed.meta["data_dir"], resumed.meta["dataset"] = "/other", "mnist"   # other data now:
    resumed.meta["trained_on_mnist"] = False                                 # warned anew
    make_eval_hook(resumed, 1, num_samples=2, write=written.append)
    assert len(written) == 2 and "IDX files in /other" in written[1]


def test_eval_every_resume_does_not_warn_again(tmp_path, capsys, monkeypatch):
    from tensorgan.cli import main
    monkeypatch.delenv("TENSORGAN_DATA", raising=False)
    monkeypatch.setenv("TENSORGAN_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "fashion"
    data.mkdir()
    rng = np.random.default_rng(7)
    write_idx(data / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (16, 28, 28), dtype=np.uint8))
    write_idx(data / "train-labels-idx1-ubyte.gz", (np.arange(16) % 10).astype(np.uint8))
    argv = ["train", "--batch-size", "8", "--base-channels", "4", "--latent-dim", "8", "--out",
            str(tmp_path / "run"), "--no-progress", "--data-dir", str(data), "--no-verify",
            "--eval-every", "1"]
    assert main(argv + ["--steps", "1"]) == 0
    assert sum("warning" in line for line in capsys.readouterr().err.splitlines()) == 1
    assert main(argv + ["--steps", "2", "--resume"]) == 0
    assert not [line for line in capsys.readouterr().err.splitlines() if "warning" in line]


# ---- CPU conv kernels take any memory layout, as the reference kernels do ------------------------
def _strided(a):
    """Same values, not C-contiguous: every other element of a twice-as-wide buffer."""
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


_RNG = np.random.default_rng(28)
_X, _GYT = _RNG.standard_normal((2, 3, 8, 8)), _RNG.standard_normal((2, 4, 8, 8))
_W, _WT, _B = _RNG.standard_normal((4, 3, 3, 3)), _RNG.standard_normal((3, 4, 3, 3)), _RNG.standard_normal(4)
_GY, _XT = _RNG.standard_normal((2, 4, 4, 4)), _RNG.standard_normal((2, 3, 4, 4))
_ALL = (True, True, True)
CONV_CALLS = {
    "conv2d": lambda k, f: k.conv2d(f(_X), f(_W), f(_B), (2, 2), (1, 1)),
    "conv2d_grad_input": lambda k, f: k.conv2d_grad_input(f(_GY), f(_W), (8, 8), (2, 2), (1, 1)),
    "conv2d_grad_weight": lambda k, f: k.conv2d_grad_weight(f(_X), f(_GY), (3, 3), (2, 2), (1, 1)),
    "conv2d_grad_bias": lambda k, f: k.conv2d_grad_bias(f(_GY)),
    "conv2d_backward": lambda k, f: k.conv2d_backward(f(_X), f(_GY), f(_W), (2, 2), (1, 1), _ALL),
    "conv_transpose2d": lambda k, f: k.conv_transpose2d(f(_XT), f(_WT), f(_B), (2, 2), (1, 1), (1, 1)),
    "conv_transpose2d_grad_input": lambda k, f: k.conv_transpose2d_grad_input(f(_GYT), f(_WT), (2, 2), (1, 1)),
    "conv_transpose2d_grad_weight": lambda k, f: k.conv_transpose2d_grad_weight(f(_XT), f(_GYT), (3, 3), (2, 2),
                                                                            (1, 1)),
    "conv_transpose2d_backward": lambda k, f: k.conv_transpose2d_backward(f(_XT), f(_GYT), f(_WT), (2, 2), (1, 1),
                                                                      _ALL),
}


@pytest.mark.parametrize("layout", [_strided, np.asfortranarray], ids=["strided", "fortran"])
@pytest.mark.parametrize("name", sorted(CONV_CALLS))
def test_cpu_conv_kernels_take_non_contiguous_arrays(name, layout):
    from tensorgan.kernels import cpu, reference
    want = CONV_CALLS[name](reference, lambda a: a)
    got = CONV_CALLS[name](cpu, layout)
    for g, w in zip(*(r if isinstance(r, tuple) else (r,) for r in (got, want))):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_c_order_keeps_contiguous_arrays_and_none():
    from tensorgan.kernels.cpu._pack import c_order
    x = np.zeros((2, 3))
    same, none, copied = c_order(x, None, x.T)
    assert same is x and none is None and copied.flags.c_contiguous and (copied == x.T).all()
