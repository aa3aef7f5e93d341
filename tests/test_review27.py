"""Review of session 27's merged changes: behaviour fixes found reading the diff, one test each."""
from __future__ import annotations

import errno
import signal

import numpy as np
import pytest

from tensorgan.data import ArrayDataset
from tensorgan.train import TrainConfig, Trainer


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    rng = np.random.default_rng(0)
    images = np.zeros((16, 1, 8, 8), np.uint8)
    for i in range(16):
        y, x = rng.integers(0, 5, 2)
        images[i, 0, y:y + 3, x:x + 3] = 255
    return images


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
