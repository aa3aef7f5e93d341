"""Acceptance review of issue 7 (hardening), session 27: faults injected as a user would meet
them -- SIGKILL at random moments, NaN mid-run, a disk that fills under the metrics log, a
batch norm fed one image, a resumed run with other settings, a broken CuPy -- and bad input into
ops that answered with NumPy's own exceptions."""
from __future__ import annotations

import errno
import gzip
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorgan as tg
import tensorgan.checkpoint as ckpt
from tensorgan import backend, losses
from tensorgan import functional as F
from tensorgan.cli import main
from tensorgan.data import ArrayDataset
from tensorgan.data.idx import read_idx
from tensorgan.errors import (ConfigError, DataError, InputTypeError, NonFiniteError, ShapeError)
from tensorgan.train import TrainConfig, Trainer

REPO = Path(__file__).resolve().parents[1]


from test_hardening import blobs, folder  # noqa: E402,F401  (the shared 32-image blob folder)


def small(**kw) -> TrainConfig:
    base = dict(steps=12, batch_size=8, latent_dim=8, base_channels=4, sample_every=100,
                checkpoint_every=3, num_samples=4, seed=0)
    return TrainConfig(**{**base, **kw})


def cli_args(folder: Path, out: Path, steps: int, *extra: str) -> list[str]:
    return ["train", "--dataset", f"folder:{folder}", "--image-size", "8", "--channels", "1",
            "--base-channels", "4", "--latent-dim", "8", "--batch-size", "8", "--steps", str(steps),
            "--sample-every", "7", "--checkpoint-every", "3", "--out", str(out), "--no-progress", *extra]


def losses_of(run: Path) -> list[tuple]:
    return [(r["step"], r["loss_d"], r["loss_g"])
            for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())]


def rows(run: Path) -> int:
    path = run / "metrics.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


# -- SIGKILL at random moments, then --resume: the same losses as a run never killed ---------------
def test_random_sigkills_then_resume_give_the_uninterrupted_losses(tmp_path, folder):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    steps = 60

    def train(out: Path, *extra: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "tensorgan", *cli_args(folder, out, steps, *extra)],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    reference = train(tmp_path / "ref")
    run, pick = tmp_path / "run", random.Random(27)
    for _ in range(2):      # kill a few steps past where the last process started, at a random moment
        proc = train(run, *(["--resume"] if (run / "checkpoint.npz").exists() else []))
        target, deadline = rows(run) + pick.randint(4, 20), time.monotonic() + 60
        while proc.poll() is None and rows(run) < target and time.monotonic() < deadline:
            time.sleep(pick.uniform(0.0, 0.01))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        state = ckpt.load_checkpoint(run / "checkpoint.npz")     # the run directory stays loadable
        assert 0 < state["step"] <= steps
    stale = run / ".checkpoint.npz.killedmidwrite.tmp"           # what a kill mid-write leaves
    stale.write_bytes(b"PK\x03\x04 torn")
    final = train(run, "--resume")
    assert final.wait(timeout=120) == 0, final.stderr.read().decode()
    assert reference.wait(timeout=120) == 0, reference.stderr.read().decode()
    assert losses_of(run) == losses_of(tmp_path / "ref")
    assert not stale.exists()                 # the next run removed the dead temp file


# -- non-finite mid-run: stop names step and network and keeps the last checkpoint; skip goes on -----
@pytest.mark.parametrize("network, bad_step", [("generator", 7), ("discriminator", 8)])
@pytest.mark.parametrize("mode", ["stop", "skip"])
def test_nan_mid_run_stops_naming_step_and_network_or_is_skipped(tmp_path, blobs, monkeypatch,
                                                                  network, bad_step, mode):
    trainer = Trainer(ArrayDataset(blobs), tmp_path, small(on_nonfinite=mode))
    name = "generator_loss" if network == "generator" else "discriminator_loss"
    original = getattr(losses, name)

    def poisoned(*args, **kwargs):
        loss = original(*args, **kwargs)
        return loss * float("nan") if trainer.step + 1 == bad_step else loss
    monkeypatch.setattr(losses, name, poisoned)
    if mode == "stop":
        with pytest.raises(NonFiniteError, match=f"step {bad_step}: the {network}'s loss is not finite"):
            trainer.fit()
        assert ckpt.load_checkpoint(tmp_path / "checkpoint.npz")["step"] == 6   # the last good one
        assert rows(tmp_path) == bad_step - 1
    else:
        assert trainer.fit()["skipped"] == 1
        record = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[bad_step - 1])
        assert record["loss_g" if network == "generator" else "loss_d"] is None
        assert ckpt.load_checkpoint(tmp_path / "checkpoint.npz")["step"] == 12


# -- a disk that fills under metrics.jsonl: the error names the file (closing it must not hide that) -
class _FullDiskLog:
    """metrics.jsonl on a disk that fills after ``room`` lines: writes, flushes and close fail."""

    def __init__(self, f, room: int):
        self.f, self.name, self.room = f, f.name, room

    def _full(self) -> OSError:
        return OSError(errno.ENOSPC, "No space left on device")

    def write(self, text: str) -> int:
        self.room -= 1
        if self.room < 0:
            raise self._full()
        return self.f.write(text)

    def flush(self) -> None:
        if self.room < 0:
            raise self._full()
        self.f.flush()

    def close(self) -> None:
        self.f.close()
        if self.room < 0:
            raise self._full()


def test_a_full_disk_under_the_metrics_log_is_one_line_naming_the_file(tmp_path, folder, monkeypatch,
                                                                       capsys):
    original = Trainer._open_metrics
    monkeypatch.setattr(Trainer, "_open_metrics", lambda self: _FullDiskLog(original(self), 4))
    assert main(cli_args(folder, tmp_path, 20)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "metrics.jsonl: No space left on device" in err[0], err
    assert "training stopped at step 5" in err[0]
    assert ckpt.load_checkpoint(tmp_path / "checkpoint.npz")["step"] == 3


def test_a_failing_close_of_the_metrics_log_alone_names_the_file(tmp_path, blobs, monkeypatch):
    class FailsOnClose(_FullDiskLog):
        def close(self) -> None:
            self.f.close()
            raise self._full()
    original = Trainer._open_metrics
    monkeypatch.setattr(Trainer, "_open_metrics", lambda self: FailsOnClose(original(self), 99))
    with pytest.raises(OSError) as info:
        Trainer(ArrayDataset(blobs), tmp_path, small(steps=2)).fit()
    assert info.value.filename == str(tmp_path / "metrics.jsonl")


# -- invalid hyperparameters caught before the run directory is made -----------------------------
def test_batch_size_one_is_a_config_error_before_training(tmp_path, folder, blobs, capsys):
    with pytest.raises(ConfigError, match="batch_size 1: the generator's BatchNorm1d needs at least 2"):
        Trainer(ArrayDataset(blobs), tmp_path / "lib", small(batch_size=1))
    assert not (tmp_path / "lib").exists()
    argv = cli_args(folder, tmp_path / "cli", 2)
    argv[argv.index("--batch-size") + 1] = "1"
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "batch_size 1" in err[0] and "BatchNorm1d" in err[0], err
    assert not (tmp_path / "cli").exists()
    Trainer(ArrayDataset(blobs), None, small(batch_size=2, steps=1)).fit()    # two images do train


def test_resume_with_other_settings_names_both_values(tmp_path, folder, capsys):
    assert main(cli_args(folder, tmp_path, 2)) == 0
    capsys.readouterr()
    argv = cli_args(folder, tmp_path, 4, "--resume", "--lr", "0.001")
    argv[argv.index("--base-channels") + 1] = "8"
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    for needle in ("--lr, --base-channels differ from the checkpoint's run",
                   "--lr 0.001 here, 0.0002 in the run", "--base-channels 8 here, 4 in the run"):
        assert needle in err[0], err


# -- --device cuda where CuPy is installed but broken: the reason, not "not installed" -------------
@pytest.mark.parametrize("failure", ["ImportError('libcudart.so.12: cannot open shared object file')",
                                     "RuntimeError('CUDA driver version is insufficient')"])
def test_a_cupy_that_fails_to_import_is_reported_with_its_reason(tmp_path, monkeypatch, failure):
    if "cupy" in sys.modules:
        pytest.skip("CuPy is imported here")
    (tmp_path / "cupy").mkdir()
    (tmp_path / "cupy" / "__init__.py").write_text(f"raise {failure}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(backend, "_CUPY_MISSING", [])
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)
    ok, why = backend.cuda_status()
    assert not ok and "CuPy is installed but importing it failed" in why, why
    assert failure.split("(")[0] in why and "pip install 'tensorgan[cuda12]'" in why
    assert backend.cuda_status() == (ok, why)            # remembered, not imported again
    assert "cupy" not in sys.modules


# -- ops that let NumPy's exceptions through ------------------------------------------------------
def _t(*shape, dtype=np.float32) -> tg.Tensor:
    return tg.tensor(np.ones(shape, dtype))


@pytest.mark.parametrize("call, cls, needles", [
    (lambda: F.max_pool2d(np.ones((1, 1, 4, 4), np.float32), 2), InputTypeError, ["max_pool2d", "ndarray"]),
    (lambda: F.max_pool1d(np.ones((1, 1, 4), np.float32), 2), InputTypeError, ["max_pool1d", "ndarray"]),
    (lambda: F.max_pool3d(np.ones((1, 1, 4, 4, 4), np.float32), 2), InputTypeError, ["max_pool3d", "ndarray"]),
    (lambda: tg.max_pool2d(np.ones((1, 1, 4, 4), np.float32), 2), InputTypeError, ["max_pool2d"]),
    (lambda: tg.isclose(_t(2, 3), _t(4)), ShapeError, ["isclose", "(2, 3)", "(4,)"]),
    (lambda: tg.allclose(_t(2, 3), _t(4)), ShapeError, ["isclose", "(2, 3)", "(4,)"]),
    (lambda: tg.logical_and(_t(2, 3), _t(4)), ShapeError, ["logical_and", "(2, 3)", "(4,)"]),
    (lambda: _t(2, 3).logical_or(_t(4)), ShapeError, ["logical_or", "(2, 3)", "(4,)"]),
    (lambda: tg.logical_xor(_t(2, 3), _t(4)), ShapeError, ["logical_xor", "(2, 3)", "(4,)"]),
    (lambda: tg.complex(_t(2, 3), _t(4)), ShapeError, ["complex", "(2, 3)", "(4,)"]),
    (lambda: tg.polar(_t(2, 3), _t(4)), ShapeError, ["polar", "(2, 3)", "(4,)"]),
    (lambda: tg.binomial(_t(2, 3), _t(4)), ShapeError, ["binomial", "(2, 3)", "(4,)"]),
])
def test_bad_inputs_that_reached_numpy_are_typed_errors(call, cls, needles):
    with pytest.raises(cls) as info:
        call()
    for needle in needles:
        assert needle in str(info.value), str(info.value)


def test_broadcasting_forms_still_work():
    assert tg.isclose(_t(2, 3), _t(3)).shape == (2, 3) and tg.allclose(_t(2, 3), _t(1))
    assert tg.logical_and(_t(2, 3), _t(3)).shape == (2, 3)
    assert tg.polar(_t(2, 3), _t(3)).shape == (2, 3) and tg.complex(_t(2, 1), _t(3)).shape == (2, 3)
    assert tg.binomial(_t(2, 3), tg.tensor(np.full(3, 0.5, np.float32))).shape == (2, 3)
    assert F.max_pool2d(_t(1, 1, 4, 4), 2).shape == (1, 1, 2, 2)


# -- IDX files with a well-formed start and a wrong body: DataError, raw or gzipped ------------------
def _header(code: int, dims: list[int]) -> bytes:
    return b"\0\0" + bytes([code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


@settings(max_examples=80, deadline=5000)
@given(code=st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07, 0xFF]),
       dims=st.lists(st.one_of(st.integers(0, 6), st.integers(2**20, 2**32 - 1)), min_size=0, max_size=4),
       slack=st.integers(-8, 8), zipped=st.booleans(), cut_gzip=st.integers(0, 30))
def test_hypothesis_idx_with_a_wrong_body_is_a_data_error(tmp_path_factory, code, dims, slack, zipped,
                                                          cut_gzip):
    size = int(np.prod(dims)) if dims else 0
    body = bytes(max(0, size + slack)) if size < 4096 else bytes(64)
    data = _header(code, dims) + body
    path = tmp_path_factory.mktemp("idx") / ("x.idx.gz" if zipped else "x.idx")
    path.write_bytes(gzip.compress(data)[:len(gzip.compress(data)) - cut_gzip] if zipped else data)
    well_formed = code == 0x08 and dims and size < 4096 and max(0, size + slack) == size and (not zipped or cut_gzip == 0)
    try:
        array = read_idx(path)
    except DataError as exc:
        assert str(path) in str(exc)
    else:
        assert well_formed and array.shape == tuple(dims)
