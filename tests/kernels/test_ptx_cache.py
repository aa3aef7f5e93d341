"""The on-disk PTX cache of the CUDA launch glue (kernels/cuda/_launch.py: compile_ptx_cached).

A GPU process compiles each kernel to PTX once per machine, not once per process.  Compiling needs
a process without NUMBA_ENABLE_CUDASIM (this pytest process may run the simulator), so the checks
run in a subprocess; they skip, saying why, where NVVM is missing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys
from numba import cuda
try:
    from numba.cuda.cudadrv.nvvm import NVVM
    NVVM()
except Exception as e:
    print(json.dumps({"skip": f"NVVM unavailable: {e}"})); sys.exit(0)
import importlib
from tensorgan.kernels.cuda import _launch
k = importlib.import_module("tensorgan.kernels.cuda.leaky_relu").leaky_relu_fwd_kernel
sig = _launch._signatures[k]
out = {}
first = _launch.compile_ptx_cached(k, sig, (9, 0))
files = sorted(p.name for p in _launch.ptx_cache_dir().iterdir())
out["files"] = files
calls = []
real = cuda.compile_ptx
cuda.compile_ptx = lambda *a, **kw: calls.append(a) or real(*a, **kw)
out["hit_same"] = _launch.compile_ptx_cached(k, sig, (9, 0)) == first    # the file, as written
out["compiles_on_hit"] = len(calls)
_launch.compile_ptx_cached(k, sig, (8, 0))                 # another arch: another entry
out["compiles_other_arch"] = len(calls)
path = _launch.ptx_cache_dir() / files[0]
path.write_text("garbage")                                 # not PTX: compiled again, rewritten
again = _launch.compile_ptx_cached(k, sig, (9, 0))
out["repaired"] = ".visible .entry" in again and path.read_text() == again
out["compiles_after_repair"] = len(calls)
_launch._digest = "edited sources"                         # a source edit changes every key
_launch.compile_ptx_cached(k, sig, (9, 0))
out["compiles_after_edit"] = len(calls)
out["leftover_tmp"] = [p.name for p in _launch.ptx_cache_dir().iterdir() if p.suffix == ".tmp"]
print(json.dumps(out))
"""


def _run(tmp_path, **env_extra):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.update(TENSORGAN_CACHE=str(tmp_path), **env_extra)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    if "skip" in data:
        pytest.skip(data["skip"])
    return data


def test_ptx_is_compiled_once_per_key_and_kept_on_disk(tmp_path):
    out = _run(tmp_path)
    assert len(out["files"]) == 1 and out["files"][0].startswith("leaky_relu_fwd_kernel-sm90-")
    assert out["hit_same"] and out["compiles_on_hit"] == 0
    assert out["compiles_other_arch"] == 1
    assert out["repaired"] and out["compiles_after_repair"] == 2
    assert out["compiles_after_edit"] == 3
    assert out["leftover_tmp"] == []


def test_ptx_cache_can_be_turned_off(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.update(TENSORGAN_CACHE=str(tmp_path), TENSORGAN_PTX_CACHE="0")
    code = "from tensorgan.kernels.cuda import _launch; print(_launch.ptx_cache_dir())"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.strip() == "None", proc.stderr[-2000:]
