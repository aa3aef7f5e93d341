"""Every CUDA kernel compiles to PTX for sm_80 and sm_90 and ptxas reports zero spills.

Runs ``python -m benchmarks.ptx_report --json`` in a subprocess whose environment has no
NUMBA_ENABLE_CUDASIM (this pytest process may be running the simulator, which cannot compile).
Skips only when the toolchain is genuinely missing (no NVVM/NVRTC, no ptxas).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tensorgan.kernels import cuda as kc

ROOT = Path(__file__).resolve().parents[2]
ARCHS = {"sm_80", "sm_90"}


@pytest.fixture(scope="module")
def report():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.ptx_report", "--json"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ptx_report printed no JSON (rc={proc.returncode}):\n"
                    f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    if "error" in data:
        if data["error"]["kind"] in ("nvvm", "ptxas"):
            pytest.skip(data["error"]["message"])
        pytest.fail(data["error"]["message"])
    return data


def test_every_kernel_compiles_for_both_archs(report):
    got = {(r["kernel"], r["arch"]) for r in report["results"] if not r["error"]}
    errors = [f"{r['kernel']} {r['arch']}: {r['error']}" for r in report["results"] if r["error"]]
    assert not errors, "\n".join(errors)
    want = {(name, arch) for name, *_ in kc.KERNELS for arch in ARCHS}
    assert got == want


def test_no_spills(report):
    spilled = [f"{r['kernel']} {r['arch']}: {r['spill_stores']} B stored, "
               f"{r['spill_loads']} B loaded, {r['registers']} registers"
               for r in report["results"] if r["spill_stores"] or r["spill_loads"]]
    assert not spilled, "register spills:\n" + "\n".join(spilled)


def test_register_tiles_stay_in_registers(report):
    # The 4x4 accumulator tiles are cuda.local.array: they must be promoted to registers
    # (a non-zero stack frame would mean local memory).
    on_stack = [f"{r['kernel']} {r['arch']}: {r['stack_frame']} B"
                for r in report["results"] if r["stack_frame"]]
    assert not on_stack, "local memory in use:\n" + "\n".join(on_stack)


def test_every_kernel_can_be_resident(report):
    assert all(r["blocks_per_sm"] >= 1 and r["occupancy"] > 0 for r in report["results"])


def test_launch_glue_matches_the_kernel_abi(report):
    """On a GPU the glue launches Numba's PTX through CuPy with the parameters laid out by hand
    (``kernels/cuda/_launch.py``): seven per 1-D array, one per scalar.  The PTX must agree."""
    from tensorgan.kernels.cuda._launch import flat_params
    signatures = {name: sig for name, _, sig, *_ in kc.KERNELS}
    wrong = [f"{r['kernel']} {r['arch']}: PTX {r['ptx_params']}, glue "
             f"{flat_params(signatures[r['kernel']])}"
             for r in report["results"] if r["ptx_params"] != flat_params(signatures[r["kernel"]])]
    assert not wrong, "\n".join(wrong)


TILED = ("conv2d_fwd", "conv2d_dgrad", "conv2d_wgrad")


def test_tiled_conv_kernels_keep_their_register_tile_and_occupancy(report):
    """The implicit-GEMM kernels' 8 x 4 register tile (``tiles.multiply_tile``): its k loop (kept
    rolled in the PTX; ptxas unrolls it) reads A's two row groups and B's columns with 3 vector
    shared loads (``ld.shared.v4.f32``, LDS.128 in the SASS), and the launch bounds
    keep them at <= 128 registers, so 4 blocks of 128 threads (25%) fit an SM on sm_80 and sm_90."""
    from tensorgan.kernels.cuda import tiles
    rows = [r for r in report["results"] if r["kernel"] in TILED]
    assert len(rows) == 2 * len(TILED)
    for r in rows:
        where = f"{r['kernel']} {r['arch']}"
        assert r["shared_v4_loads"] == 3, f"{where}: {r['shared_v4_loads']} v4 loads"
        assert r["registers"] <= 128 and r["threads_per_block"] == tiles.THREADS == 128, where
        assert r["blocks_per_sm"] >= tiles.MIN_BLOCKS and r["occupancy"] >= 0.25, where


def test_readme_table_is_the_reports(report):
    """README's ptx_report table lists, row for row, what ``python -m benchmarks.ptx_report``
    prints now (the toolchain line above the rows names this machine's paths: not compared)."""
    from benchmarks.ptx_report import format_table
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```\nptxas ")
    block = readme[start:readme.index("```", start + 3)]

    def rows(text):
        return [line.split() for line in text.splitlines() if line[:1].isalnum()
                and len(line.split()) > 2 and line.split()[1] in ARCHS]

    assert rows(block) == rows(format_table(report))
