"""benchmarks.layers_1d / layers_3d time every layer they list and print a row each (no timing
asserted)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not installed
from benchmarks import layers_1d, layers_3d  # noqa: E402


@pytest.mark.parametrize("bench", [layers_1d, layers_3d], ids=["1d", "3d"])
def test_layer_benchmark_reports_each_layer(bench, capsys):
    result = bench.main(["--repeats", "2", "--warmup", "0", "--batch", "1", "--no-torch"])
    assert list(result["rows"]) == [spec[0] for spec in bench.LAYERS]
    for row in result["rows"].values():
        assert set(row) == {"tensorgan fwd", "tensorgan fwd+bwd"}       # --no-torch: ours alone
        assert all(r["repeats"] == 2 and r["median_ms"] > 0 for r in row.values())
    out = capsys.readouterr().out
    assert all(spec[0] in out for spec in bench.LAYERS)
