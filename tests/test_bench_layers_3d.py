"""benchmarks.layers_3d times every 3-D layer it lists and prints a row each (no timing asserted)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not installed
from benchmarks import layers_3d  # noqa: E402


def test_layers_3d_benchmark_reports_each_layer(capsys):
    result = layers_3d.main(["--repeats", "2", "--warmup", "0", "--batch", "1", "--no-torch"])
    assert list(result["rows"]) == [spec[0] for spec in layers_3d.LAYERS]
    for row in result["rows"].values():
        assert set(row) == {"tensorgan fwd", "tensorgan fwd+bwd"}       # --no-torch: ours alone
        assert all(r["repeats"] == 2 and r["median_ms"] > 0 for r in row.values())
    out = capsys.readouterr().out
    assert all(spec[0] in out for spec in layers_3d.LAYERS)
