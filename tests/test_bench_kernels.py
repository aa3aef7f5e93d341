"""benchmarks.kernels: the table's rows and the GEMM replay run end to end (no timing asserted)."""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not installed
from benchmarks import kernels as bench  # noqa: E402


def test_rows_for_a_conv_layer_and_adam(tmp_path):
    out = tmp_path / "k.json"
    bench.main(["--batch", "2", "--repeats", "1", "--warmup", "0", "--no-torch", "--no-reference",
                "--quiet", "--only", "D.conv 1->64", "Adam", "--json", str(out)])
    rows = json.loads(out.read_text())["results"]
    ops = {(r["layer"], r["op"]) for r in rows}
    assert {("D.conv 1->64 28->14", op) for op in
            ("forward", "grad_input", "grad_weight", "grad_bias", "backward")} <= ops
    assert ("G+D Adam, all parameters", "step") in ops
    for r in rows:
        assert r["impl"]["cpu"]["median_ms"] > 0
        # The GEMM replay exists exactly for the passes that multiply (not the bias sum, not Adam).
        assert ("gemm" in r["impl"]) == (r["op"] not in ("grad_bias", "step"))


def test_adam_row_covers_every_dcgan_parameter():
    shapes = bench._dcgan_parameter_shapes()
    assert sum(int(np.prod(s)) for s in shapes) == 1_936_001 + 138_817


def test_conv_pass_bytes_count_each_pass_own_traffic():
    # D.conv 64->128 14->7 at batch 2: x 2x64x14x14, w 128x64x4x4, b 128, y 2x128x7x7 (float32).
    x, w, b, y = 2 * 64 * 14 * 14, 128 * 64 * 4 * 4, 128, 2 * 128 * 7 * 7
    got = bench.conv_pass_bytes(x, w, b, y, 4)
    assert got["forward"] == 4 * (25088 + 131072 + 128 + 12544)          # x, w, b -> y
    assert got["grad_input"] == 4 * (12544 + 131072 + 25088)              # gy, w -> gx
    assert got["grad_weight"] == 4 * (25088 + 12544 + 131072)             # x, gy -> gw
    assert got["grad_bias"] == 4 * (12544 + 128)                          # gy -> gb
    assert got["backward"] == 4 * (25088 + 131072 + 12544 + 25088 + 131072 + 128)


def test_conv_rows_carry_the_per_pass_bytes():
    rng = np.random.default_rng(0)
    prm = dict(x=(2, 64, 14, 14), cout=128, k=4, s=2, p=1)
    bench.TORCH_DEVICES[:] = []
    cases = {op: nbytes for op, _, nbytes, _, _ in bench.conv_cases("conv", prm, rng, np.float32)}
    assert cases == bench.conv_pass_bytes(25088, 131072, 128, 12544, 4)
    cases = {op: nbytes for op, _, nbytes, _, _ in
             bench.conv_cases("convT", dict(x=(2, 256, 7, 7), cout=128, k=4, s=2, p=1), rng, np.float32)}
    x, w, b, y = 2 * 256 * 49, 256 * 128 * 16, 128, 2 * 128 * 196
    assert cases["grad_input"] == 4 * (y + w + x) and cases["forward"] == 4 * (x + w + b + y)
    assert "grad_bias" not in cases


def test_batch_norm_bytes():
    # (64, 12544): E = 802816 elements in C = 12544 channels.
    got = bench.bn_pass_bytes(802816, 12544, 4)
    assert got == {"forward train": 4 * (2 * 802816 + 8 * 12544),
                   "backward train": 4 * (3 * 802816 + 5 * 12544)}
    assert bench.bn_pass_bytes(10, 2, 4, fused=True)["backward train"] == 4 * (30 + 12)


def test_cli_refuses_bad_arguments(usage_error):
    assert "--batch: must be >= 1, got 0" in usage_error(bench.main, ["--batch", "0", "--no-torch"])
    assert "--repeats: must be >= 1" in usage_error(bench.main, ["--repeats", "0", "--no-torch"])
    err = usage_error(bench.main, ["--only", "no-such-layer", "--no-torch", "--quiet"])
    assert "--only no-such-layer: no layer name contains" in err and "D.conv 1->64 28->14" in err
