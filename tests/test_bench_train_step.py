"""benchmarks.train_step: the FLOP count and the instrumentation (no timing asserted here)."""
import importlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not installed
from benchmarks import train_step as bench  # noqa: E402
from tensorgan.tensor import Function  # noqa: E402

cpu_workers = importlib.import_module("tensorgan.kernels.cpu._workers")
cpu_optim = importlib.import_module("tensorgan.kernels.cpu.optim")


def test_step_flops_counts_the_passes_the_trainer_runs():
    trainer = bench.make_trainer(64)
    f = bench.step_flops(trainer.G, trainer.D, 64)
    # G: Linear 100->12544, convT 256->128 and 128->64 (k4 s2), conv 64->1 k3 at 28x28.
    g = [2 * 64 * 100 * 12544, 2 * 64 * 256 * 49 * 128 * 16, 2 * 64 * 128 * 196 * 64 * 16,
         2 * 64 * 1 * 784 * 64 * 9]
    d = [2 * 64 * 64 * 196 * 1 * 16, 2 * 64 * 128 * 49 * 64 * 16, 2 * 64 * 6272]
    assert f["generator_in_step"] == 2 * sum(g) + sum(g[1:])
    assert f["discriminator_in_step"] == 6 * sum(d) + 2 * sum(d[1:])
    assert abs(f["total"] / 1e9 - 26.96) < 0.01


def test_breakdown_instruments_and_restores_everything():
    trainer = bench.make_trainer(4)
    real = bench.real_batch(4)
    kernels = trainer.device.kernels
    methods = {cls: dict(cls.__dict__) for cls in [Function] + Function.__subclasses__()}
    split = {m: vars(m)["run_parts"] for m in (cpu_workers, cpu_optim)}
    b = bench.breakdown(trainer, real, 2)
    assert trainer.device.kernels is kernels
    assert all(vars(m)["run_parts"] is fn for m, fn in split.items())
    assert "step" not in vars(trainer.opt_d) and "step" not in vars(trainer.opt_g)
    for cls, d in methods.items():
        assert cls.__dict__.get("forward") is d.get("forward")
        assert cls.__dict__.get("backward") is d.get("backward")
    assert 0 < b["kernels"] <= b["step"]
    assert b["per_kernel"]["conv_transpose2d"]["calls"] == 2
    assert np.isfinite(b["engine_adds"])


def test_breakdown_counts_the_fused_batch_norm_leaky_relu_as_batch_norm():
    trainer = bench.make_trainer(4)
    b = bench.breakdown(trainer, bench.real_batch(4), 1)
    # The generator's three BatchNorm + LeakyReLU pairs and the discriminator's one run fused.
    assert "batch_norm" not in b["per_kernel"]
    assert b["per_kernel"]["batch_norm_leaky_relu"]["calls"] > 0
    assert b["per_kernel"]["batch_norm_leaky_relu_backward"]["calls"] > 0
    cats = bench.tensorgan_categories(b)
    fused = sum(b["per_kernel"][k]["ms"] for k in b["per_kernel"] if k.startswith("batch_norm"))
    assert abs(cats["batch norm"] - fused) < 1e-9
    assert abs(cats["leaky relu"] - sum(b["per_kernel"][k]["ms"] for k in b["per_kernel"]
                                        if k.startswith("leaky_relu"))) < 1e-9


def test_malloc_benchmark_runs_both_modes(tmp_path):
    """benchmarks.malloc end to end at a toy size (its numbers are not asserted: timing)."""
    import json
    import platform
    import pytest
    from benchmarks import malloc
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("keep_freed_memory only changes glibc's malloc")
    out = tmp_path / "malloc.json"
    assert malloc.main(["--rounds", "1", "--steps", "1", "--batch", "2", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert sorted(r["mode"] for r in rows) == ["default", "keep"]
    assert all(r["wall_ms"] > 0 and r["faults"] >= 0 for r in rows)


def test_breakdown_measures_the_thread_hand_over():
    """At batch 64 the convolutions split across the threads: each split call is counted, and its
    hand-over (wall time - the parts' mean busy time) is a non-negative share of the step."""
    import numba
    import pytest
    if numba.get_num_threads() < 2:
        pytest.skip("one Numba thread: nothing is split")
    b = bench.breakdown(bench.make_trainer(64), bench.real_batch(64), 1)
    assert b["split_calls"] >= 18            # every conv / transposed conv pass of the step
    assert 0 <= b["handover_ms"] < 1e3 * b["step"]
