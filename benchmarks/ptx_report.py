"""Compile every CUDA kernel of tensorgan.kernels.cuda to PTX and report what ptxas makes of it.

    python -m benchmarks.ptx_report          # table
    python -m benchmarks.ptx_report --json   # machine-readable (used by tests/kernels/test_ptx.py)

No GPU is needed.  For each kernel (with the explicit signature listed in its module's ``KERNELS``)
and each architecture, sm_80 (A100) and sm_90 (H100):

1. ``numba.cuda.compile_ptx(kernel.py_func, signature, cc=..., launch_bounds=...)`` (the bounds a
   kernel declares, ``_launch.bounded_jit``) -- NVVM, from NVIDIA's pip wheels;
2. ``ptxas -arch=sm_XX -v`` -- registers per thread, static shared memory, stack frame, spills;
3. the theoretical occupancy that follows from registers/thread, shared memory/block (static +
   the launch's dynamic + the 1 KB the driver reserves per block) and threads/block against the
   SM's limits (65536 registers in 4 sub-partitions, 2048 threads, 32 blocks, 164 KB (sm_80) /
   228 KB (sm_90) shared memory), as the CUDA occupancy calculator computes it.

The ptxas that matches the NVVM used is preferred: the one shipped in the ``nvidia`` pip package
(``cuda-toolkit[nvcc]``), then ``ptxas`` on PATH.

Must run without Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM``), which cannot compile; the
variable is dropped here if numba has not been imported yet.

Exit status: 0 report produced (``--json``: ``{"toolchain": ..., "results": [...]}``);
2 NVVM/NVRTC not importable; 3 ptxas not found; 4 the simulator is already active.  In the error
cases ``--json`` prints ``{"error": {"kind": ..., "message": ...}}``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

ARCHS = ((8, 0), (9, 0))

# Per-SM limits (CUDA C++ Programming Guide, "Technical Specifications per Compute Capability").
SM_LIMITS = {
    (8, 0): dict(regs=65536, threads=2048, blocks=32, warps=64, smem=164 * 1024),
    (9, 0): dict(regs=65536, threads=2048, blocks=32, warps=64, smem=228 * 1024),
}
REG_ALLOC_UNIT = 256         # registers are allocated per warp in units of 256
SUB_PARTITIONS = 4           # the register file is split between 4 warp schedulers
SMEM_RESERVED_PER_BLOCK = 1024  # cudaDevAttrReservedSharedMemoryPerBlock on sm_80+
SMEM_ALLOC_UNIT = 128


class ToolchainMissing(RuntimeError):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class Row:
    kernel: str
    arch: str
    threads_per_block: int
    registers: int
    smem_static: int
    smem_dynamic: int
    stack_frame: int
    spill_stores: int
    spill_loads: int
    blocks_per_sm: int
    limiter: str
    occupancy: float
    error: str | None = None
    ptx_params: int = -1      # parameters of the PTX entry (checked against the launch glue's ABI)
    shared_v4_loads: int = -1  # ld.shared.v4.f32 in the PTX (the tiled kernels' LDS.128; JSON only)


# ----------------------------------------------------------------------------------- toolchain
def find_ptxas() -> str:
    """The pip-packaged ptxas beside NVVM if installed, else the one on PATH."""
    try:
        import nvidia  # namespace package of NVIDIA's pip wheels
        roots = list(getattr(nvidia, "__path__", []))
    except ImportError:
        roots = []
    for root in roots:
        for sub in ("cu13/bin", "cu12/bin", "cuda_nvcc/bin"):
            cand = Path(root) / sub / "ptxas"
            if cand.is_file() and os.access(cand, os.X_OK):
                return str(cand)
    found = shutil.which("ptxas")
    if found:
        return found
    raise ToolchainMissing("ptxas", "ptxas not found: install the test extra "
                                    "(cuda-toolkit[nvcc]==13.0.*) or put a CUDA 13.0 ptxas on PATH")


def ptxas_version(ptxas: str) -> str:
    out = subprocess.run([ptxas, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"release ([\d.]+)", out)
    return m.group(1) if m else out.strip().splitlines()[-1] if out.strip() else "?"


def import_numba_cuda():
    if "numba" not in sys.modules:
        os.environ.pop("NUMBA_ENABLE_CUDASIM", None)
    from numba import config
    if config.ENABLE_CUDASIM:
        raise ToolchainMissing("simulator", "NUMBA_ENABLE_CUDASIM is set in this process; "
                                            "run the report in a process without it")
    try:
        from numba import cuda
        return cuda
    except Exception as e:  # pragma: no cover - depends on the installation
        raise ToolchainMissing("nvvm", f"NVVM/NVRTC not importable: numba.cuda: {e}") from e


def check_nvvm(cuda) -> None:
    """Compile a trivial kernel: fails fast, with one clear message, when NVVM/NVRTC are missing."""
    def probe(a):
        a[0] = 1.0

    try:
        cuda.compile_ptx(probe, "void(float32[::1])", cc=(8, 0))
    except Exception as e:
        raise ToolchainMissing("nvvm", "NVVM/NVRTC not importable: install the test extra "
                                       f"(cuda-toolkit[nvvm,nvrtc,cudart]==13.0.*): "
                                       f"{type(e).__name__}: {e}") from e


# ------------------------------------------------------------------------------------- parsing
def entry_params(ptx: str) -> int:
    """Number of parameters of the (single) ``.entry`` in a PTX text."""
    m = re.search(r"\.entry\s+\S+\((.*?)\)", ptx, re.S)
    return len(re.findall(r"\.param\b", m.group(1))) if m else -1


def parse_ptxas(text: str) -> dict:
    """Registers, smem, stack and spills of the (single) entry function in ``ptxas -v`` output."""
    entry = text
    m = re.search(r"Compiling entry function '([^']+)'", text)
    if m:
        entry = text[m.start():]
        nxt = entry.find("Compiling entry function", 10)
        if nxt > 0:
            entry = entry[:nxt]

    def grab(pattern):
        mm = re.search(pattern, entry)
        return int(mm.group(1)) if mm else 0

    regs = re.search(r"Used (\d+) registers", entry)
    if regs is None:
        raise ValueError("no 'Used N registers' line in ptxas output:\n" + text)
    return dict(
        registers=int(regs.group(1)),
        smem_static=grab(r"(\d+) bytes smem"),
        stack_frame=grab(r"(\d+) bytes stack frame"),
        spill_stores=grab(r"(\d+) bytes spill stores"),
        spill_loads=grab(r"(\d+) bytes spill loads"),
    )


def _round_up(x: int, unit: int) -> int:
    return -(-x // unit) * unit


def occupancy(cc, registers: int, smem_bytes: int, threads: int) -> tuple[int, str, float]:
    """(blocks per SM, limiting resource, active warps / max warps) for one kernel launch."""
    lim = SM_LIMITS[cc]
    warps_per_block = -(-threads // 32)
    by = {"threads": lim["threads"] // threads, "blocks": lim["blocks"]}
    if registers > 0:
        regs_per_warp = _round_up(registers * 32, REG_ALLOC_UNIT)
        warps_per_partition = (lim["regs"] // SUB_PARTITIONS) // regs_per_warp
        by["registers"] = (warps_per_partition * SUB_PARTITIONS) // warps_per_block
    smem_per_block = _round_up(smem_bytes + SMEM_RESERVED_PER_BLOCK, SMEM_ALLOC_UNIT)
    by["shared memory"] = lim["smem"] // smem_per_block
    limiter = min(by, key=lambda k: (by[k], k != "threads"))
    blocks = by[limiter]
    return blocks, limiter, blocks * warps_per_block / lim["warps"]


# -------------------------------------------------------------------------------------- report
def build_report() -> dict:
    cuda = import_numba_cuda()
    ptxas = find_ptxas()
    check_nvvm(cuda)
    from tensorgan.kernels import cuda as kcuda
    from tensorgan.kernels.cuda._launch import launch_bounds

    results = []
    with tempfile.TemporaryDirectory(prefix="tensorgan-ptx-") as tmp:
        for name, kernel, signature, threads, dyn_smem in kcuda.KERNELS:
            py_func = getattr(kernel, "py_func", kernel)
            for cc in ARCHS:
                arch = f"sm_{cc[0]}{cc[1]}"
                try:
                    ptx, _ = cuda.compile_ptx(py_func, signature, cc=cc,
                                              launch_bounds=launch_bounds(kernel))
                    path = Path(tmp) / f"{name}_{arch}.ptx"
                    path.write_text(ptx)
                    proc = subprocess.run([ptxas, f"-arch={arch}", "-v", str(path), "-o",
                                           str(path.with_suffix(".cubin"))],
                                          capture_output=True, text=True)
                    if proc.returncode != 0:
                        raise RuntimeError(f"ptxas failed: {proc.stderr.strip()}")
                    info = parse_ptxas(proc.stdout + proc.stderr)
                    blocks, limiter, occ = occupancy(cc, info["registers"],
                                                     info["smem_static"] + dyn_smem, threads)
                    results.append(Row(name, arch, threads, smem_dynamic=dyn_smem,
                                       blocks_per_sm=blocks, limiter=limiter,
                                       occupancy=round(occ, 4), ptx_params=entry_params(ptx),
                                       shared_v4_loads=ptx.count("ld.shared.v4.f32"), **info))
                except Exception as e:
                    results.append(Row(name, arch, threads, -1, -1, dyn_smem, -1, -1, -1, 0, "",
                                       0.0, error=f"{type(e).__name__}: {e}"))
    import numba
    try:
        from importlib.metadata import version
        numba_cuda_version = version("numba-cuda")
    except Exception:
        numba_cuda_version = "?"
    toolchain = dict(ptxas=ptxas, ptxas_version=ptxas_version(ptxas), numba=numba.__version__,
                     numba_cuda=numba_cuda_version)
    return dict(toolchain=toolchain, results=[asdict(r) for r in results])


def format_table(report: dict) -> str:
    tc = report["toolchain"]
    lines = [f"ptxas {tc['ptxas_version']} ({tc['ptxas']}), numba {tc['numba']}, "
             f"numba-cuda {tc['numba_cuda']}", ""]
    head = ("kernel", "arch", "thr/blk", "regs", "smem st", "smem dyn", "stack", "spill st",
            "spill ld", "blk/SM", "limiter", "occupancy")
    rows = []
    for r in report["results"]:
        if r["error"]:
            rows.append((r["kernel"], r["arch"], str(r["threads_per_block"]), "ERROR: " + r["error"]))
            continue
        rows.append((r["kernel"], r["arch"], str(r["threads_per_block"]), str(r["registers"]),
                     str(r["smem_static"]), str(r["smem_dynamic"]), str(r["stack_frame"]),
                     str(r["spill_stores"]), str(r["spill_loads"]), str(r["blocks_per_sm"]),
                     r["limiter"], f"{100 * r['occupancy']:.1f}%"))
    widths = [max(len(h), *(len(row[i]) for row in rows if len(row) > i and len(row) == len(head)))
              for i, h in enumerate(head)]
    fmt = lambda row: "  ".join(c.ljust(w) if i in (0, 10) else c.rjust(w)  # noqa: E731
                                for i, (c, w) in enumerate(zip(row, widths)))
    lines.append(fmt(head))
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(fmt(row) if len(row) == len(head) else "  ".join(row))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = build_report()
    except ToolchainMissing as e:
        code = {"nvvm": 2, "ptxas": 3, "simulator": 4}[e.kind]
        if args.json:
            print(json.dumps({"error": {"kind": e.kind, "message": str(e)}}))
        else:
            print(f"ptx_report: {e}", file=sys.stderr)
        return code
    print(json.dumps(report, indent=1) if args.json else format_table(report))
    return 1 if any(r["error"] for r in report["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
