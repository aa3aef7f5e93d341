"""The command line and its files under a hostile user: damaged checkpoints and logs, a disk that
fills mid-run, impossible sizes, outputs in odd places, Ctrl-C. Every failure is one line naming
what was wrong, a non-zero exit, and no file lost or left corrupt."""
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tensorgan.train as train_module
from cli_runs import random_image_folder, tiny_train_args
from tensorgan.checkpoint import load_checkpoint, save_checkpoint
from tensorgan.cli import main
from tensorgan.errors import CheckpointError, ConfigError
from tensorgan.fileio import atomic_write

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return random_image_folder(tmp_path_factory.mktemp("blobs"), 16, seed=1, width=2)


def train_args(folder, out, steps=2, *extra):
    return tiny_train_args(folder, out, steps, *extra, sample_every=1, checkpoint_every=2)


@pytest.fixture(scope="module")
def trained(folder, tmp_path_factory):
    """A finished 2-step run (its checkpoint is copied, never modified, by the tests)."""
    out = tmp_path_factory.mktemp("trained") / "run"
    assert main(train_args(folder, out)) == 0
    return out


def litter(folder):
    return sorted(p.name for p in Path(folder).rglob(".*.tmp"))


def one_line_error(capsys):
    err = capsys.readouterr().err
    assert err.startswith("tensorgan: error: ") and "Traceback" not in err, err
    assert "internal error" not in err
    return err


# ---------------------------------------------------------------------------------------------
# damaged checkpoints
# ---------------------------------------------------------------------------------------------
def _damage(kind, good: bytes, path: Path) -> None:
    if kind == "directory":
        path.mkdir()
        return
    data = bytearray(good)
    if kind == "truncated":
        data = data[: len(data) // 3]
    elif kind == "empty":
        data = bytearray()
    elif kind == "bitflips":
        for i in range(200, len(data), 4093):
            data[i] ^= 0x20
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", ["truncated", "empty", "bitflips", "directory"])
def test_a_damaged_checkpoint_is_one_line_for_sample_and_resume_and_is_left_as_it_was(
        kind, trained, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    ckpt = run / "checkpoint.npz"
    _damage(kind, (trained / "checkpoint.npz").read_bytes(), ckpt)
    before = ckpt.read_bytes() if ckpt.is_file() else None
    assert main(["sample", "--checkpoint", str(ckpt), "-o", str(tmp_path / "s.png")]) == 1
    assert str(ckpt) in one_line_error(capsys) and not (tmp_path / "s.png").exists()
    assert main(["train", "--resume", str(ckpt), "--steps", "4", "--no-progress"]) == 1
    assert str(ckpt) in one_line_error(capsys)
    assert (ckpt.read_bytes() if ckpt.is_file() else None) == before and litter(run) == []


def test_sample_names_nan_weights_without_calling_the_architecture_unbuildable(trained, tmp_path, capsys):
    state = load_checkpoint(trained / "checkpoint.npz")
    weights = state["models"]["generator"]
    name = next(iter(weights))
    bad = np.array(weights[name].numpy() if hasattr(weights[name], "numpy") else weights[name])
    bad.flat[0] = np.nan
    weights[name] = bad
    for key in ("format", "format_version"):
        state.pop(key)
    save_checkpoint(tmp_path / "nan.npz", state)
    assert main(["sample", "--checkpoint", str(tmp_path / "nan.npz"), "-o", str(tmp_path / "s.png")]) == 1
    err = one_line_error(capsys)
    assert f"{name!r} holds NaN" in err and "cannot be built" not in err
    assert err.count("nan.npz") == 1               # named once, not wrapped in a second message


# ---------------------------------------------------------------------------------------------
# failed writes: a disk that fills up
# ---------------------------------------------------------------------------------------------
def _disk_full(f):
    f.write(b"half of it")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_failed_atomic_write_names_the_target_and_keeps_the_previous_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous")
    with pytest.raises(OSError) as info:
        atomic_write(target, _disk_full)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert target.read_bytes() == b"previous" and litter(tmp_path) == []


def test_a_checkpoint_save_failing_half_way_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    import tensorgan.checkpoint as checkpoint_module
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, {"w": np.arange(4.0)})
    before = path.read_bytes()
    real_write = checkpoint_module._write_npz       # (the writer: np.savez's file format)

    def write_then_fail(f, arrays):
        real_write(f, arrays)           # the whole payload, then the disk fills at the fsync
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint_module, "_write_npz", write_then_fail)
    with pytest.raises(CheckpointError, match="No space left on device.*previous checkpoint there is kept"):
        save_checkpoint(path, {"w": np.arange(8.0)})
    monkeypatch.undo()
    assert path.read_bytes() == before and litter(tmp_path) == []
    np.testing.assert_array_equal(load_checkpoint(path)["w"], np.arange(4.0))


def test_disk_full_mid_run_names_the_file_the_step_and_the_kept_checkpoint(folder, tmp_path, capsys,
                                                                             monkeypatch):
    real = train_module.atomic_write

    def fill_at_step_3(path, write, *args, **kwargs):
        if Path(path).name.startswith("step_000003"):
            write = _disk_full
        return real(path, write, *args, **kwargs)

    monkeypatch.setattr(train_module, "atomic_write", fill_at_step_3)
    out = tmp_path / "run"
    assert main(train_args(folder, out, 6)) == 1
    err = one_line_error(capsys)
    assert "step_000003.png: No space left on device; training stopped at step 3" in err
    assert f"{out / 'checkpoint.npz'} holds the last checkpoint" in err
    assert load_checkpoint(out / "checkpoint.npz")["step"] == 2 and litter(out) == []


def test_a_failed_metrics_write_names_the_metrics_file(folder, tmp_path, capsys, monkeypatch):
    class FullDisk:
        name = str(tmp_path / "run" / "metrics.jsonl")

        def write(self, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def flush(self):
            pass

        def close(self):
            pass

    monkeypatch.setattr(train_module.Trainer, "_open_metrics", lambda self: FullDisk())
    assert main(train_args(folder, tmp_path / "run", 2)) == 1
    assert "metrics.jsonl: No space left on device; training stopped at step 1" in one_line_error(capsys)


# ---------------------------------------------------------------------------------------------
# damaged logs and run folders
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line", [b"\xff\xfe flipped bytes\n", b"5\n", b'{"step": "x"}\n', b"[1, 2]\n"])
def test_resume_drops_a_damaged_metrics_line_instead_of_crashing(line, trained, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.npz").write_bytes((trained / "checkpoint.npz").read_bytes())
    good = (trained / "metrics.jsonl").read_bytes()
    (run / "metrics.jsonl").write_bytes(good + line + b'{"step": 9}\n')
    assert main(["train", "--resume", str(run / "checkpoint.npz"), "--steps", "3", "--no-progress"]) == 0
    steps = [json.loads(r)["step"] for r in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]


def test_a_run_folder_blocked_by_a_file_names_it(trained, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.npz").write_bytes((trained / "checkpoint.npz").read_bytes())
    (run / "samples").write_text("not a folder")
    assert main(["train", "--resume", str(run / "checkpoint.npz"), "--steps", "3", "--no-progress"]) == 1
    assert f"({run / 'samples'})" in one_line_error(capsys)


def test_sample_output_under_a_file_says_it_is_not_a_folder(trained, tmp_path, capsys):
    blocker = tmp_path / "file.png"
    blocker.write_bytes(b"x")
    assert main(["sample", "--checkpoint", str(trained / "checkpoint.npz"),
                 "-o", str(blocker / "s.png")]) == 1
    assert f"output folder {blocker} is not a folder" in one_line_error(capsys)


# ---------------------------------------------------------------------------------------------
# sizes that cannot fit
# ---------------------------------------------------------------------------------------------
def test_an_image_folder_too_large_for_memory_is_refused_before_allocating(folder, tmp_path, capsys,
                                                                          monkeypatch):
    from tensorgan.data import ImageFolder
    import tensorgan.fileio as fileio
    need = (16 + 2) * 3 * 64 * 64
    monkeypatch.setattr(fileio, "available_memory", lambda: need - 1)
    with pytest.raises(ConfigError, match=r"16 images of 3x64x64 need about .* --image-size"):
        ImageFolder(folder, (3, 64, 64))
    out = tmp_path / "deep" / "run"
    argv = train_args(folder, out)
    argv[argv.index("--channels") + 1], argv[argv.index("--image-size") + 1] = "3", "64"
    assert main(argv) == 1
    assert "16 images of 3x64x64 need about" in one_line_error(capsys)
    assert not (tmp_path / "deep").exists()
    monkeypatch.setattr(fileio, "available_memory", lambda: need)
    assert ImageFolder(folder, (3, 64, 64)).images.shape == (16, 3, 64, 64)


def test_eval_every_refuses_mnist_format_data_of_another_size_before_writing_anything(
        tmp_path, capsys, monkeypatch):
    from tensorgan import data
    from tensorgan.data import ArrayDataset

    def other_size(data_dir=None, **_):      # what --no-verify reads from 56x14 IDX files
        ds = ArrayDataset(np.zeros((8, 1, 56, 14), np.uint8), name="not 28x28")
        ds.source = "bundled"
        return ds

    monkeypatch.setattr(data, "mnist_dataset", other_size)
    out = tmp_path / "run"
    assert main(["train", "--base-channels", "4", "--latent-dim", "8", "--batch-size", "4",
                 "--steps", "2", "--eval-every", "1", "--no-progress", "--out", str(out)]) == 1
    assert "this run trains on (1, 56, 14)" in one_line_error(capsys)
    assert not (out / "config.json").exists()


# ---------------------------------------------------------------------------------------------
# Ctrl-C
# ---------------------------------------------------------------------------------------------
def test_sigint_after_the_first_checkpoint_leaves_a_loadable_checkpoint_and_says_so(folder, tmp_path):
    out = tmp_path / "run"
    argv = train_args(folder, out, 10**6)
    argv[argv.index("--sample-every") + 1] = "1000"
    env = {**os.environ, "PYTHONPATH": str(REPO), "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tensorgan", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not (out / "checkpoint.npz").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted at step" in err and "continue with --resume" in err
    step = load_checkpoint(out / "checkpoint.npz")["step"]
    assert step >= 2 and f"interrupted at step {step};" in err and litter(out) == []


@pytest.mark.parametrize("shape, body", [((10**12, 1, 28, 28), 100), ((4, 1, 28, 28), 3000)])
def test_eval_refuses_a_npy_whose_header_declares_more_than_the_file_holds(shape, body, tmp_path, capsys):
    from numpy.lib import format as npy_format
    path = tmp_path / "s.npy"
    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": shape})
        f.write(bytes(body))
    assert main(["eval", str(path)]) == 1
    err = one_line_error(capsys)
    assert f"declares a uint8 array of shape {shape}" in err and f"holds {body} bytes" in err
