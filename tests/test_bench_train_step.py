"""benchmarks.train_step: the FLOP count and the instrumentation (no timing asserted here)."""
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

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
    cats = bench.tensorgan_categories(b)   # one step: its categories are that step's
    fused = sum(b["per_kernel"][k]["ms"] for k in b["per_kernel"] if k.startswith("batch_norm"))
    assert abs(cats["batch norm"] - fused) < 1e-9
    assert abs(cats["leaky relu"] - sum(b["per_kernel"][k]["ms"] for k in b["per_kernel"]
                                        if k.startswith("leaky_relu"))) < 1e-9
    assert abs(sum(cats.values()) - 1e3 * b["step"]) < 1e-6


def test_step_categories_add_up_per_step_and_medians_are_per_category():
    kernels = {"conv2d": 0.010, "conv2d_backward": 0.020, "conv_transpose2d_grad_input": 0.001,
               "batch_norm_leaky_relu": 0.003, "batch_norm_leaky_relu_backward": 0.004,
               "leaky_relu": 0.0005, "leaky_relu_backward": 0.0005}
    c = bench.step_categories(kernels, 0.002, 0.0015, 0.050)
    assert c["conv forward"] == pytest.approx(10.0) and c["conv backward"] == pytest.approx(21.0)
    assert c["batch norm"] == pytest.approx(7.0) and c["leaky relu"] == pytest.approx(1.0)
    assert c["optimizer"] == pytest.approx(2.0) and c["linear"] == pytest.approx(1.5)
    assert c["other"] == pytest.approx(50.0 - 10 - 21 - 7 - 1 - 2 - 1.5)
    assert sum(c.values()) == pytest.approx(50.0)
    # Three steps, one slow in its kernels: each category's median is that category's middle
    # value, and "other" is each step's own rest (not the median step minus the kernels' medians).
    steps = [bench.step_categories({"conv2d": k}, 0.002, 0.001, t)
             for k, t in ((0.010, 0.020), (0.030, 0.041), (0.011, 0.030))]
    med = bench.category_medians(steps)
    assert med["conv forward"] == pytest.approx(11.0)
    # the steps' rests are 7, 8 and 16 ms: median 8 (median step 30 - median conv 11 - 3 = 16 would
    # be the old mix of a median of totals with medians of parts)
    assert med["other"] == pytest.approx(8.0)


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


def test_memory_growth_of_a_noisy_flat_and_a_growing_series():
    rng = np.random.default_rng(0)
    MiB = 2 ** 20
    steps = 200
    flat = [(i, 300 * MiB + int(rng.uniform(-40, 40) * MiB)) for i in range(steps + 1)]
    g = bench.memory_growth(flat, steps)
    assert abs(g["growth"]) < 15 * MiB                  # the medians see through +-40 MiB swings
    assert g["band_max"] - g["band_min"] > 60 * MiB     # ... and the band shows them
    assert g["growth_per_1000_steps"] is None and "200 steps < 500" in g["slope_note"]
    growing = [(i, 300 * MiB + i * MiB // 10 + int(rng.uniform(-5, 5) * MiB)) for i in range(steps + 1)]
    g = bench.memory_growth(growing, steps)
    # quarters' medians at about steps 25 and 175: 150 steps * 0.1 MiB = 15 MiB
    assert 12 * MiB < g["growth"] < 18 * MiB
    long = [(i, 300 * MiB + i * MiB // 10) for i in range(0, 1001, 5)]
    g = bench.memory_growth(long, 1000)
    assert g["growth_per_1000_steps"] == pytest.approx(100 * MiB, rel=0.01) and g["slope_note"] is None


def test_format_memory_says_why_there_is_no_slope():
    MiB = 2 ** 20
    s = {"framework": "tensorgan", "steps": 40, "warmup": 3, "warmup_requested": 0, "rss_import": 100 * MiB,
         "peak_rss": 300 * MiB, "working_set": 200 * MiB,
         **bench.memory_growth([(i, 250 * MiB) for i in range(41)], 40)}
    text = bench.format_memory({"tensorgan": s})
    assert "after 3 warm-up steps (asked 0; the probe takes at least 3)" in text
    assert "not fitted: 40 steps < 500" in text
    row = [line for line in text.splitlines() if line.strip().startswith("tensorgan")][0]
    assert row.split()[4] == "0.0" and row.split()[5] == "250.0-250.0" and row.split()[6] == "-"


class _Ev:   # what categorize_profile reads of a torch.profiler FunctionEvent
    def __init__(self, name, self_us, parent=None):
        self.name, self.self_cpu_time_total, self.cpu_parent = name, self_us, parent


def test_torch_profile_categories_follow_the_callers():
    opt = _Ev("Optimizer.step#Adam.step", 5)
    conv_node = _Ev("autograd::engine::evaluate_function: ConvolutionBackward0", 1)
    conv_bwd = _Ev("ConvolutionBackward0", 1, conv_node)
    bn_node = _Ev("NativeBatchNormBackward0", 2)
    mm_node = _Ev("AddmmBackward0", 1)
    events = [opt, _Ev("aten::_foreach_mul_", 30, opt), _Ev("aten::add_", 7, opt),
              conv_node, conv_bwd, _Ev("aten::convolution_backward", 100, conv_bwd),
              _Ev("aten::sum", 3, conv_bwd),
              bn_node, _Ev("aten::native_batch_norm_backward", 20, bn_node),
              _Ev("LeakyReluBackward0", 1), _Ev("aten::leaky_relu_backward", 4),
              mm_node, _Ev("aten::mm", 6, mm_node), _Ev("SplitBackward0", 1),
              _Ev("aten::conv2d", 2), _Ev("aten::mkldnn_convolution", 50),
              _Ev("aten::batch_norm", 1), _Ev("aten::leaky_relu", 3), _Ev("aten::addmm", 9),
              _Ev("aten::binary_cross_entropy_with_logits", 8), _Ev("Optimizer.zero_grad#Adam.zero_grad", 1)]
    cats = bench.categorize_profile(events)
    assert cats["optimizer"] == 42
    assert cats["conv backward"] == 1 + 1 + 100 + 3
    assert cats["conv forward"] == 52
    assert cats["batch norm"] == 2 + 20 + 1
    assert cats["leaky relu"] == 1 + 4 + 3
    assert cats["linear"] == 1 + 6 + 9
    assert cats["other"] == 1 + 8 + 1                  # SplitBackward0, the loss, zero_grad
    assert sum(cats.values()) == sum(e.self_cpu_time_total for e in events)


def test_parameter_parity_judges_differences_against_the_update():
    before = {"w": {"p": np.zeros(100)}}
    tg = {"w": {"p": np.full(100, 1e-3), "exp_avg": np.full(100, 0.5), "exp_avg_sq": np.full(100, 0.25)}}
    th = {"w": {"p": np.full(100, 1e-3), "exp_avg": np.full(100, 0.5), "exp_avg_sq": np.full(100, 0.025)}}
    r = bench.parameter_parity(tg, th, before)["w"]
    assert r["param"] == 0 and r["moments"] == pytest.approx(0.9)     # betas2 0.999 vs 0.99 shows
    th["w"]["exp_avg_sq"] = tg["w"]["exp_avg_sq"].copy()
    th["w"]["p"] = tg["w"]["p"].copy()
    th["w"]["p"][0] = -1e-3                   # one element moved the other way: RMS 2/sqrt(100)
    r = bench.parameter_parity(tg, th, before)["w"]
    assert r["moments"] == 0 and r["param"] == pytest.approx(0.2)
    assert bench.parameter_parity(tg, th, before, skip={"w"}) == {}


def test_cli_refuses_bad_arguments(usage_error):
    err = usage_error(bench.main, ["--batch", "1", "--no-torch"])
    assert "--batch: must be >= 2 (batch norm in training needs more than one value per channel)" in err
    assert "--steps: must be >= 1, got 0" in usage_error(bench.main, ["--steps", "0", "--no-torch"])
    assert "--warmup: must be >= 0" in usage_error(bench.main, ["--warmup", "-1", "--no-torch"])
    assert "--memory-steps: must be >= 4" in usage_error(bench.main, ["--memory-steps", "3", "--no-torch"])
