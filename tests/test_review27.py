"""Review of session 27's merged changes: behaviour fixes found reading the diff, one test each."""
from __future__ import annotations

import errno
import signal

import numpy as np
import pytest

from tensorgan.data import ArrayDataset
from tensorgan.train import TrainConfig, Trainer


from test_hardening import blobs  # noqa: E402,F401  (the shared 32-image blob set)


def _small(**kw) -> TrainConfig:
    base = dict(steps=2, batch_size=8, latent_dim=8, base_channels=4, sample_every=100,
                checkpoint_every=100, num_samples=4, seed=0)
    return TrainConfig(**{**base, **kw})


class _FailsOnClose:
    """metrics.jsonl whose close fails as on a full disk (the writes went through)."""

    def __init__(self, f):
        self.f, self.name = f, f.name

    def write(self, text: str) -> int:
        return self.f.write(text)

    def flush(self) -> None:
        self.f.flush()

    def close(self) -> None:
        self.f.close()
        raise OSError(errno.ENOSPC, "No space left on device")


def test_close_error_of_the_metrics_log_is_not_lost_when_fit_runs_inside_an_except(tmp_path, blobs,
                                                                                  monkeypatch):
    # fit() inside a caller's except block: sys.exc_info() there reports the caller's exception,
    # which _close_log took for one on its way out of fit, and dropped the close error silently
    original = Trainer._open_metrics
    monkeypatch.setattr(Trainer, "_open_metrics", lambda self: _FailsOnClose(original(self)))
    trainer = Trainer(ArrayDataset(blobs), tmp_path, _small())
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(OSError) as info:
        try:
            raise KeyError("the caller's own, already handled")
        except KeyError:
            trainer.fit()
    assert info.value.filename == str(tmp_path / "metrics.jsonl")
    assert signal.getsignal(signal.SIGINT) is handler     # fit's Ctrl-C handler was undone


def test_array_dataset_refuses_a_bool_index():
    # a bool is not an item number: NumPy read it as a mask, adding a dim to images and labels
    from tensorgan.errors import InputTypeError
    ds = ArrayDataset(np.zeros((3, 1, 2, 2), np.uint8), np.arange(3))
    for index in (True, np.bool_(False)):
        with pytest.raises(InputTypeError, match="index must be an int"):
            ds[index]
    image, label = ds[np.int64(-1)]
    assert image.shape == (1, 2, 2) and label == 2
    assert [a.shape for a in ds[np.array([True, False, True])]] == [(2, 1, 2, 2), (2,)]   # a mask array


def test_no_graph_lerp_of_equal_shapes_skips_broadcast_shapes(monkeypatch):
    # the EMA's p.lerp(p_ema, beta) has equal shapes every call: no np.broadcast_shapes (~1.7 us)
    import tensorgan as tg
    calls = []
    real = np.broadcast_shapes
    monkeypatch.setattr(np, "broadcast_shapes", lambda *s: calls.append(s) or real(*s))
    a, b = tg.tensor(np.arange(4.0, dtype=np.float32)), tg.tensor(np.full(4, 8.0, np.float32))
    with tg.no_grad():
        assert a.lerp(b, 0.25).tolist() == [2.0, 2.75, 3.5, 4.25]
        assert calls == []
        assert a.lerp(tg.tensor(np.float32(8.0)), 0.25).tolist() == [2.0, 2.75, 3.5, 4.25]
    assert calls == [((4,), ())]


def test_a_live_writers_checkpoint_temp_is_kept_and_a_dead_ones_removed(tmp_path):
    """check_run_dir deletes the temp files of killed checkpoint writes -- but not one that a
    live process (another trainer on the same directory) is writing right now: its pid is in the
    name (fileio.atomic_write), and its rename must not fail."""
    import os
    import subprocess
    import sys
    from tensorgan.train import check_run_dir
    from tensorgan.fileio import atomic_write
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    tmp_path.joinpath(f".checkpoint.npz.{os.getpid()}-abc.tmp").write_bytes(b"live")
    tmp_path.joinpath(f".checkpoint.npz.{dead}-def.tmp").write_bytes(b"dead writer")
    tmp_path.joinpath(".checkpoint.npz.ghi.tmp").write_bytes(b"written before pids")
    check_run_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.glob(".*.tmp")) == [f".checkpoint.npz.{os.getpid()}-abc.tmp"]
    seen = []
    atomic_write(tmp_path / "checkpoint.npz", lambda f: f.write(b"x"),
                 check=lambda temp: seen.append(temp.name))
    assert seen[0].startswith(f".checkpoint.npz.{os.getpid()}-") and seen[0].endswith(".tmp")
