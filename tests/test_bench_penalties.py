"""benchmarks.penalties runs its three trainers and reports each (no timing asserted here)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not installed
from benchmarks import penalties  # noqa: E402


def test_penalties_benchmark_reports_each_setting(capsys):
    result = penalties.main(["--steps", "2", "--warmup", "0", "--batch", "2"])
    assert list(result["rows"]) == ["no penalty", "R1 every step", "R1 every 16th step"]
    assert result["rows"]["no penalty"]["mean_ratio"] == 1.0
    assert all(row["repeats"] == 2 and row["median_ms"] > 0 for row in result["rows"].values())
    assert "R1 every step" in capsys.readouterr().out
