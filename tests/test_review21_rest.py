"""Review of session 21's non-core changes (amp, testing, CLI, data, fileio): each test fails
without the fix it names."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

import tensorgan as tg
from tensorgan.cli import main
from tensorgan.errors import ConfigError, DeviceError


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "images"
    root.mkdir()
    rng = np.random.default_rng(1)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(root / f"{i}.png")
    return root


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("tensorgan: error: ") and "Traceback" not in err, err
    assert err.count("\n") == 1, err
    return err


# -- amp.custom_fwd(cast_inputs=...) casts as torch's _cast ---------------------------------------
def test_custom_fwd_cast_inputs_keeps_float64_tensors_and_casts_float32_ones():
    seen = {}

    class Twice(tg.autograd.Function):
        @staticmethod
        @tg.amp.custom_fwd(device_type="cpu", cast_inputs=tg.float32)
        def forward(ctx, x, extra):
            seen["x"], seen["extra"] = x.dtype, [t.dtype for t in extra["ts"]]
            return x * 2

        @staticmethod
        @tg.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return g * 2, None

    x = tg.ones(3, dtype=tg.float64, requires_grad=True)
    extra = {"ts": [tg.ones(1, dtype=tg.float64), tg.ones(1, dtype=tg.float32)]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tg.autocast("cpu"):
            y = Twice.apply(x, extra)
    # torch leaves float64 tensors at full precision (only lower-precision floats are cast)
    assert seen == {"x": tg.float64, "extra": [tg.float64, tg.float32]}
    assert y.dtype == tg.float64
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 2.0))


def test_custom_fwd_cast_inputs_casts_float32_up_when_asked_for_float64():
    seen = []

    class Ident(tg.autograd.Function):
        @staticmethod
        @tg.amp.custom_fwd(device_type="cpu", cast_inputs=tg.float64)
        def forward(ctx, *xs):
            seen.extend(x.dtype for x in xs)
            return xs[0].clone()

        @staticmethod
        def backward(ctx, g):
            return g, None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tg.autocast("cpu"):
            Ident.apply(tg.ones(2, dtype=tg.float32), tg.ones(2, dtype=tg.int64))
    assert seen == [tg.float64, tg.int64]


# -- testing.assert_close: NumPy scalars are the Python numbers they hold --------------------------
def test_assert_close_compares_numpy_scalars_as_python_numbers():
    tg.testing.assert_close(np.float32(1.0), 1.0)          # both floats (torch: no dtype error)
    tg.testing.assert_close(np.float64(2.0), np.float32(2.0))
    tg.testing.assert_close(np.int32(3), 3)
    with pytest.raises(AssertionError, match=r"The \(d\)types do not match: <class 'int'> != "
                                             r"<class 'float'>"):
        tg.testing.assert_close(np.int64(1), 1.0)
    with pytest.raises(AssertionError, match="Scalars are not close"):
        tg.testing.assert_close(np.float32(1.0), 1.5)


# -- CLI ------------------------------------------------------------------------------------------
def test_config_conflicts_from_the_cli_are_usage_errors_naming_the_flags(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "--out", str(out), "--steps", "1", "--no-progress"]
    assert main(base + ["--d-norm", "spectral", "--discriminator", "mlp"]) == 2
    err = one_line_error(capsys)
    assert "--d-norm 'spectral' chooses the conv discriminator's normalization" in err
    assert "d_norm" not in err
    assert main(base + ["--r1-every", "4"]) == 2
    err = one_line_error(capsys)
    assert "--r1-every 4 schedules" in err and "give --r1-gamma > 0" in err and "r1_" not in err
    assert main(base + ["--conditional", "--discriminator", "mlp"]) == 2
    assert one_line_error(capsys).startswith("tensorgan: error: --conditional needs the conv")
    assert not out.exists()


def test_as_flags_leaves_prose_words_alone():
    from tensorgan.cli import _as_flags
    assert _as_flags("loss='wgan-gp' with a batch-normalized critic: give d_norm='layer'") == \
        "--loss 'wgan-gp' with a batch-normalized critic: give --d-norm 'layer'"
    # single words of the prose ("loss", "discriminator") stay words unless written name=value
    assert _as_flags("gp_lambda weighs the loss of the discriminator; ema_decay, beta1") == \
        "--gp-lambda weighs the loss of the discriminator; --ema, --beta1"


@pytest.mark.parametrize("flag", ["--out", "--data-dir", "--dataset"])
def test_train_refuses_an_empty_path_instead_of_the_default(flag, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--steps", "1", "--no-progress", flag, ""]
    if flag != "--out":
        argv += ["--out", str(tmp_path / "run")]
    assert main(argv) == 2
    assert f"{flag} is empty" in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []          # no runs/dcgan, no run folder


def test_a_cuda_index_other_than_0_is_named_as_a_missing_gpu(tmp_path, capsys):
    with pytest.raises(DeviceError, match=r"there is no GPU with index 99 \('cuda:99'\)"):
        tg.device("cuda:99")
    with pytest.raises(DeviceError, match="unknown device 'tpu:1'"):
        tg.device("tpu:1")
    assert main(["train", "--device", "cuda:99", "--out", str(tmp_path / "r"), "--steps", "1"]) == 1
    assert "there is no GPU with index 99" in one_line_error(capsys)


def test_image_folder_memory_check_reads_fileio_not_the_cli(folder, monkeypatch):
    import tensorgan.fileio as fileio
    from tensorgan.data import ImageFolder
    need = (4 + 2) * 1 * 8 * 8
    monkeypatch.setattr(fileio, "available_memory", lambda: need - 1)
    with pytest.raises(ConfigError, match="4 images of 1x8x8 need about"):
        ImageFolder(folder, (1, 8, 8))
    monkeypatch.setattr(fileio, "available_memory", lambda: need)
    assert ImageFolder(folder, (1, 8, 8)).images.shape == (4, 1, 8, 8)


# -- torch's per-optimizer module names do not replace tensorgan's real submodules -----------------
def test_optim_alias_modules_keep_the_real_lbfgs_module():
    import sys

    import tensorgan.optim.lbfgs as lbfgs
    from tensorgan.optim.lbfgs import LBFGS, _strong_wolfe     # torch.optim.lbfgs has both too
    assert lbfgs.__file__.endswith("lbfgs.py") and sys.modules["tensorgan.optim.lbfgs"] is lbfgs
    assert LBFGS is tg.optim.LBFGS and callable(_strong_wolfe)
    from tensorgan.optim.adam import Adam                      # an alias module still
    from tensorgan.optim.optimizer import Optimizer, required
    assert Adam is tg.optim.Adam and Optimizer is tg.optim.Optimizer and repr(required)
