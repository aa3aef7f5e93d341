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
