"""The GPU-side helper scripts, as far as a machine without a GPU can run them: the host profile
of a step (any device), and the variants benchmark's refusal to time a simulator."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed


def test_profile_step_lists_where_the_host_time_goes():
    proc = subprocess.run([sys.executable, "scripts/profile_step.py", "--device", "cpu", "--batch", "4",
                           "--steps", "2", "--top", "5"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first = proc.stdout.splitlines()[0]
    assert first.startswith("device cpu, batch 4, 2 steps:") and "ms of profiled host time" in first
    assert "tottime" in proc.stdout and "function calls" in proc.stdout   # the cProfile listing


def test_cuda_variants_says_why_it_times_nothing_without_a_gpu():
    from benchmarks import cuda_variants
    from tensorgan import backend
    ok, _ = backend.cuda_status()
    if ok and not backend.simulator_enabled():
        pytest.skip("a real GPU is present: the benchmark would run")
    with pytest.raises(SystemExit, match="cuda_variants: no GPU to time"):
        cuda_variants.main(["--repeats", "1"])
