"""Trainer, checkpoint, DataLoader and Generator behaviours a user relies on (found by an audit
of those APIs; each failed before its fix)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.checkpoint as ckpt
from tensorgan.data import ArrayDataset, DataLoader, default_collate
from tensorgan.errors import CheckpointError, ConfigError, DataError, DeviceError, InputTypeError, ShapeError
from tensorgan.random import Generator
from tensorgan.train import TrainConfig, Trainer, make_grid


def blobs(n=48, hw=8):
    rng = np.random.default_rng(0)
    return ArrayDataset(rng.integers(0, 256, (n, 1, hw, hw)).astype(np.uint8))


def config(**kw):
    base = dict(steps=6, batch_size=8, latent_dim=8, base_channels=4, sample_every=3,
                checkpoint_every=3, num_samples=4, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def test_a_stop_request_ends_one_fit_not_every_later_one():
    t = Trainer(blobs(), None, config(steps=10))
    first = t.fit(on_step=lambda r: r["step"] == 2 and t.request_stop())
    assert first["interrupted"] and first["step"] == 2
    second = t.fit()
    assert not second["interrupted"] and second["step"] == 10


def test_reserved_and_colliding_checkpoint_keys_are_refused(tmp_path):
    for state, needle in (({"format": "mine"}, "reserved"), ({"format_version": 2}, "reserved"),
                          ({"ref": {"__array__": "w"}, "w": np.ones(2)}, "__array__"),
                          ({"": {"x": np.ones(2)}, "x": np.zeros(3)}, "non-empty"),
                          ({"file": np.ones(2)}, "np.savez"), ({"allow_pickle": np.ones(2)}, "np.savez")):
        with pytest.raises(CheckpointError, match=needle):
            ckpt.save_checkpoint(tmp_path / "c.npz", state)
        assert not (tmp_path / "c.npz").exists()
    with pytest.raises(CheckpointError, match="mapping"):
        ckpt.save_checkpoint(tmp_path / "c.npz", [1, 2])


def test_config_follows_the_optimizer_state_a_checkpoint_brings(tmp_path):
    a = Trainer(blobs(), tmp_path / "a", config(lr=2e-4, beta1=0.5))
    a.fit()
    b = Trainer(blobs(), None, config(lr=0.1, beta1=0.9))
    b.resume(tmp_path / "a" / "checkpoint.npz")
    assert b.opt_g.param_groups[0]["lr"] == pytest.approx(2e-4)
    assert (b.config.lr, b.config.beta1) == (pytest.approx(2e-4), pytest.approx(0.5))


def test_make_grid_checks_its_input():
    with pytest.raises(ShapeError, match="to_uint8"):
        make_grid(np.linspace(-1, 1, 4, dtype=np.float32).reshape(4, 1, 1, 1))
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        make_grid(np.zeros((4, 8, 8), np.uint8))
    for kw in ({"nrow": -1}, {"nrow": 0}, {"padding": -1}):
        with pytest.raises(ConfigError, match=next(iter(kw))):
            make_grid(np.zeros((4, 1, 8, 8), np.uint8), **kw)
    assert make_grid(np.zeros((5, 1, 8, 8), np.uint8), nrow=2).shape[:2] == (2 + 3 * 10, 2 + 2 * 10)


def test_numpy_scalars_in_a_config_and_save_samples_without_a_run_dir():
    c = config(batch_size=np.int64(8), lr=np.float32(2e-4), beta1=np.float32(0.5), seed=np.int64(3))
    t = Trainer(blobs(), None, c)
    assert type(t.config.batch_size) is int and type(t.config.lr) is float
    with pytest.raises(ConfigError, match="check_grads"):
        config(check_grads="no").validate()
    with pytest.raises(ConfigError, match="run_dir"):
        t.save_samples()


def test_data_loader_and_generator_inputs():
    with pytest.raises(InputTypeError, match="ArrayDataset"):
        DataLoader(np.zeros((10, 1, 8, 8), np.uint8), 2)
    a = [b for b, _ in DataLoader(blobs(), 8, generator=Generator(5))]
    b = [b for b, _ in DataLoader(blobs(), 8, generator=Generator(5))]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert np.array_equal(Generator(-1).normal(3), Generator(-1).normal(3))   # torch allows it
    assert Generator(7).initial_seed() == 7
    for bad in (True, 1.5):
        with pytest.raises(ConfigError, match="seed"):
            Generator(bad)
    with pytest.raises(DeviceError, match="unknown device '3'"):
        Generator("3")               # a string is torch's device argument (Generator('cuda'))
    g = Generator(0)
    for state in ("x", {"bit_generator": "PCG64"}):
        with pytest.raises(CheckpointError, match="PCG64"):
            g.set_state(state)
    with pytest.raises(CheckpointError, match="JSON"):
        g.load_state_json("{not json")
    with pytest.raises(ConfigError, match="not both"):
        tg.randn(2, generator=g, seed=1)


def test_metrics_range_error_names_the_range_asked_for():
    from tensorgan import metrics
    from tensorgan.errors import DataError
    x = np.linspace(-1, 1, 4 * 28 * 28, dtype=np.float32).reshape(4, 1, 28, 28)
    with pytest.raises(DataError, match=r"\[0, 1\] \(value_range '0,1'\), got values in \[-1, 1\]"):
        metrics.prepare_images(x, value_range="0,1")


def test_data_loader_batches_a_torch_style_map_dataset():
    class Pairs:                      # torch's map-style protocol: __len__ and __getitem__
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(3, i, np.float32), i * 10, {"name": f"item{i}"}

    loader = DataLoader(Pairs(), 2, shuffle=False, drop_last=False)
    batches = list(loader)
    assert len(batches) == len(loader) == 3
    x, y, meta = batches[0]
    assert isinstance(x, tg.Tensor) and isinstance(y, tg.Tensor)      # numbers -> Tensors, as torch
    assert x.dtype == tg.float32 and y.dtype == tg.int64
    assert x.shape == (2, 3) and x[:, 0].tolist() == [0.0, 1.0]   # stacked, unscaled
    assert y.tolist() == [0, 10] and meta == {"name": ["item0", "item1"]}
    assert batches[2][1].tolist() == [40]                           # the short last batch
    shuffled = DataLoader(Pairs(), 5, generator=Generator(1))
    order = next(iter(shuffled))[1].tolist()
    assert sorted(order) == [0, 10, 20, 30, 40] and order != [0, 10, 20, 30, 40]
    with pytest.raises(DataError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])
    assert default_collate([(1.0, b"a"), (2.0, b"b")])[1] == (b"a", b"b")  # a field: torch's tuple
    rows = default_collate([tg.ones(2), tg.zeros(2)])
    assert isinstance(rows, tg.Tensor) and rows.tolist() == [[1.0, 1.0], [0.0, 0.0]]
