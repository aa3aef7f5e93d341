"""Acceptance review of the benchmark suite's command lines (issue 6): --json paths checked before a
run, --quiet keeps the table, and a missing torch is named as such.  No timing is asserted; the
machine's SGEMM peak is measured on a small matrix to keep the runs short."""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed
from benchmarks import _common  # noqa: E402
from benchmarks import kernels as kbench  # noqa: E402
from benchmarks import train_step as tbench  # noqa: E402


def _small_peak(clock=None, **_):
    return _common.sgemm_peak(n=64, repeats=1, **({"clock": clock} if clock else {}))


def test_json_dest_accepts_stdout_and_a_writable_file(tmp_path):
    assert _common.json_dest("-") == "-"
    assert _common.json_dest(str(tmp_path / "r.json")) == str(tmp_path / "r.json")


@pytest.mark.parametrize("where, message", [("missing/r.json", "no directory"),
                                            (".", "is a directory")])
def test_json_dest_refuses_a_path_it_cannot_write(tmp_path, where, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        _common.json_dest(str(tmp_path / where))


@pytest.mark.parametrize("bench, extra", [(kbench, []), (tbench, ["--no-torch"])],
                         ids=["kernels", "train_step"])
def test_cli_refuses_an_unwritable_json_path_before_timing(usage_error, tmp_path, bench, extra):
    err = usage_error(bench.main, ["--json", str(tmp_path / "no" / "r.json")] + extra)
    assert "--json" in err and "no directory" in err


def test_torch_missing_note_says_which_case():
    absent = ModuleNotFoundError("No module named 'torch'", name="torch")
    assert "torch is not installed" in _common.torch_missing_note(absent)
    broken = ImportError("libtorch_cpu.so: cannot open shared object file")
    assert "could not be imported" in _common.torch_missing_note(broken)
    assert "libtorch_cpu.so" in _common.torch_missing_note(broken)
    assert _common.torch_missing_note(None, "--no-torch") == "torch not used (--no-torch)"


def test_kernels_quiet_still_prints_the_table(monkeypatch, capsys):
    monkeypatch.setattr(kbench, "sgemm_peak", _small_peak)
    monkeypatch.setattr(kbench, "OPENBLAS_SPIN_S", 0.0)
    kbench.main(["--batch", "2", "--repeats", "1", "--warmup", "0", "--no-torch", "--no-reference",
                 "--quiet", "--only", "D.lrelu 128"])
    out, err = capsys.readouterr()
    assert kbench.HEADER in out
    assert sum(line.startswith("D.lrelu 128x7x7") for line in out.splitlines()) == 2
    assert "torch not used (--no-torch)" in out
    assert "timed" not in err          # --quiet: no progress lines


def test_kernels_without_torch_runs_and_says_so(tmp_path):
    """A subprocess where ``import torch`` fails as on a machine without it: the benchmark still
    runs, prints a valid JSON document, and says torch is not installed."""
    script = ("import sys; sys.modules['torch'] = None\n"
              "from benchmarks import kernels as k, _common as c\n"
              "k.sgemm_peak = lambda clock: c.sgemm_peak(n=64, repeats=1, clock=clock)\n"
              "k.OPENBLAS_SPIN_S = 0.0\n"
              "k.main(['--batch', '2', '--repeats', '1', '--warmup', '0', '--no-reference',\n"
              "        '--only', 'D.lrelu 128', '--json', '-'])\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["machine"]["torch"] is None
    assert "torch is not installed" in result["machine"]["torch_note"]
    assert "torch is not installed" in proc.stderr            # the report (stderr under --json -)
    for row in result["results"]:
        assert "torch" not in row["impl"]
        cpu = row["impl"]["cpu"]
        assert {"median_ms", "p10_ms", "p90_ms", "gflops", "frac_sgemm_peak"} <= set(cpu)


def test_train_step_without_torch_runs_and_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)        # import torch raises ModuleNotFoundError
    monkeypatch.setattr(tbench, "sgemm_peak", _small_peak)
    ns = argparse.Namespace(batch=2, steps=1, warmup=0, no_torch=False, no_memory=True,
                            no_overhead=True)
    result = tbench.run(ns)
    assert result["machine"]["torch"] is None and "tensorgan_over_torch" not in result
    assert "torch is not installed" in result["machine"]["torch_note"]
    assert "torch is not installed" in tbench.format_report(result)
    st = result["results"]["tensorgan"]
    assert {"median_ms", "p10_ms", "p90_ms", "images_per_s", "over_floor"} <= set(st)
    json.dumps(result)                                      # what --json writes


def test_train_step_report_names_the_no_torch_flag(monkeypatch):
    monkeypatch.setattr(tbench, "sgemm_peak", _small_peak)
    ns = argparse.Namespace(batch=2, steps=1, warmup=0, no_torch=True, no_memory=True,
                            no_overhead=True)
    result = tbench.run(ns)
    assert "torch not used (--no-torch)" in tbench.format_report(result)


def test_kernels_with_tensorgan_bench_no_torch_leaves_torch_out_of_the_process():
    """TENSORGAN_BENCH_NO_TORCH=1: torch is never imported (its OpenMP workers would otherwise
    serve tensorgan's prange kernels too), and the report says why the column is missing."""
    script = ("import sys\n"
              "from benchmarks import kernels as k, _common as c\n"
              "k.sgemm_peak = lambda clock: c.sgemm_peak(n=64, repeats=1, clock=clock)\n"
              "k.OPENBLAS_SPIN_S = 0.0\n"
              "k.main(['--batch', '2', '--repeats', '1', '--warmup', '0', '--no-reference',\n"
              "        '--only', 'EMA', '--json', '-'])\n"
              "assert 'torch' not in sys.modules, 'torch was imported'\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TENSORGAN_BENCH_NO_TORCH="1")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert "TENSORGAN_BENCH_NO_TORCH is set" in result["machine"]["torch_note"]
    assert [row["layer"] for row in result["results"]] == ["G EMA, all parameters"]
