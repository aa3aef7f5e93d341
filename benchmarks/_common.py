"""Timing helpers shared by the benchmarks: warmed-up repeats, medians and spread, machine peak."""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def stats_ms(samples_s):
    """Median and spread (min, p10, p90, max) of samples in seconds, returned in milliseconds."""
    a = np.sort(np.asarray(samples_s, dtype=np.float64)) * 1e3
    return {
        "median_ms": float(np.median(a)),
        "min_ms": float(a[0]),
        "p10_ms": float(np.percentile(a, 10)),
        "p90_ms": float(np.percentile(a, 90)),
        "max_ms": float(a[-1]),
        "repeats": int(a.size),
    }


def time_interleaved(fns: dict, repeats: int, warmup: int, sync=None, clock=time.perf_counter,
                     settle_s: float = 0.005) -> dict:
    """Time several callables round-robin (one call of each per round), so that load from other
    processes on a shared machine hits every contender alike.  Returns name -> list of seconds.

    ``settle_s``: an untimed pause before each call, so that thread pools the previous contender
    left spinning (GNU OpenMP's default: torch's workers busy-wait a while after each op) have
    gone to sleep and do not steal the cores from the next one.  Measured here without it:
    tensorgan's D 64->128 conv took 9 ms right after a torch op, 5.4 ms after a pause.

    ``clock=time.process_time`` measures CPU seconds of the whole process instead of wall time:
    immune to being descheduled on a loaded machine, but it also counts threads spinning idle --
    a fair comparison only with one thread per contender."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    if sync:
        sync()
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if settle_s:
                time.sleep(settle_s)
            t0 = clock()
            fn()
            if sync:
                sync()
            samples[name].append(clock() - t0)
    return samples


def sgemm_peak(n: int = 2048, repeats: int = 7, clock=time.perf_counter) -> dict:
    """The machine's float32 GEMM rate through NumPy (OpenBLAS): an n^3 matmul, median of repeats,
    timed with the same clock as the kernels it is compared with."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    samples = []
    for _ in range(repeats):
        t0 = clock()
        a @ b
        samples.append(clock() - t0)
    return _gemm_rate(samples, n, "NumPy")


def cupy_event_samples(fn, repeats: int, warmup: int) -> list:
    """Seconds per call of ``fn`` on the GPU, each timed with a pair of CuPy CUDA events on the
    current stream after ``warmup`` untimed calls and a device synchronisation."""
    import cupy
    for _ in range(warmup):
        fn()
    cupy.cuda.Device().synchronize()
    samples = []
    for _ in range(repeats):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        end.record()
        end.synchronize()
        samples.append(cupy.cuda.get_elapsed_time(start, end) * 1e-3)
    return samples


def torch_cuda_strict_fp32(torch) -> dict:
    """Make PyTorch's GPU side a float32 peer: cuDNN and cuBLAS may otherwise run float32 convolutions
    and matmuls on TF32 tensor cores (10-bit mantissa; cuDNN's default is on), which tensorgan's
    kernels never do.  ``cudnn.benchmark`` lets cuDNN pick its fastest algorithm per shape during
    the warm-up -- its best, which is the fair thing to compare with.  Returns what was set."""
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    return {"cudnn_allow_tf32": False, "matmul_allow_tf32": False, "cudnn_benchmark": True}


def sgemm_peak_gpu(n: int = 8192, repeats: int = 7) -> dict:
    """The GPU's float32 GEMM rate through CuPy (cuBLAS; TF32 off, CuPy's default): an n^3 matmul
    timed with CUDA events -- the floor of a step that runs on the GPU."""
    import cupy
    a = cupy.random.standard_normal((n, n), dtype=cupy.float32)
    b = cupy.random.standard_normal((n, n), dtype=cupy.float32)
    return _gemm_rate(cupy_event_samples(lambda: a @ b, repeats, 1), n, "CuPy")


def _gemm_rate(samples, n: int, via: str) -> dict:
    """Timing stats of an n^3 float32 matmul plus its rate (median and best) in GFLOP/s."""
    s = stats_ms(samples)
    s["n"] = n
    s["gflops"] = 2.0 * n ** 3 / (s["median_ms"] * 1e-3) / 1e9
    s["gflops_best"] = 2.0 * n ** 3 / (s["min_ms"] * 1e-3) / 1e9
    s["via"] = via
    return s


def machine_info() -> dict:
    info = {"cpu_count": os.cpu_count(), "numpy": np.__version__}
    try:
        import numba
        info["numba"] = numba.__version__
        info["numba_threads"] = numba.get_num_threads()
        info["numba_threading_layer"] = numba.config.THREADING_LAYER
    except ImportError:  # pragma: no cover
        pass
    try:
        cfg = np.show_config(mode="dicts")
        info["blas"] = cfg["Build Dependencies"]["blas"].get("name")
    except Exception:  # pragma: no cover - older numpy
        pass
    return info


def write_json(result: dict, dest: str) -> None:
    """``--json -`` prints the result; ``--json PATH`` writes it to PATH."""
    text = json.dumps(result, indent=1)
    if dest == "-":
        print(text)
    else:
        with open(dest, "w") as f:
            f.write(text)


def json_dest(text: str) -> str:
    """An argparse type for ``--json [PATH]``: "-" (stdout) or a file path whose folder exists and
    is writable -- checked before the run, so that a long run does not end in a traceback that
    loses its results."""
    if text == "-":
        return text
    folder = os.path.dirname(os.path.abspath(text))
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file path")
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: no directory {folder!r}")
    if not os.access(folder, os.W_OK) or (os.path.exists(text) and not os.access(text, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: permission denied")
    return text


def torch_missing_note(error: BaseException | None, disabled_by: str = "") -> str:
    """Why the PyTorch column is absent, for the report: disabled (``disabled_by`` names the flag
    or variable), not installed, or installed but failing to import (the error)."""
    if disabled_by:
        return f"torch not used ({disabled_by})"
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "torch":
        return "torch is not installed: tensorgan timed alone"
    return f"torch could not be imported ({type(error).__name__}: {error}): tensorgan timed alone"


def int_at_least(low: int, why: str = ""):
    """An argparse type: an int >= low, else a usage error (exit 2) that says so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}{why}, got {value}")
        return value
    return parse


def layer_table(argv, description: str, title: str, layers: list, contenders, label,
                default_batch: int) -> dict:
    """The layer benchmarks' shared command line and table: for each spec in ``layers`` (its
    name first), ``contenders(spec, batch, torch)`` gives the "tensorgan fwd" / "tensorgan
    fwd+bwd" callables (and torch's, when torch is given); they are timed round-robin, medians
    printed with the ratio to torch, one row per layer (``label(spec)`` names it)."""
    import argparse
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--repeats", type=int_at_least(1), default=7)
    p.add_argument("--warmup", type=int_at_least(0), default=2)
    p.add_argument("--batch", type=int_at_least(1), default=default_batch)
    p.add_argument("--no-torch", action="store_true", help="time tensorgan alone")
    p.add_argument("--json", nargs="?", const="-", metavar="PATH", type=json_dest)
    args = p.parse_args(argv)
    import tensorgan as tg
    torch, torch_note = None, torch_missing_note(None, "--no-torch")
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(tg.get_num_threads())
            torch_note = f"torch {torch.__version__}"
        except ImportError as e:
            torch_note = torch_missing_note(e)
    result = {"batch": args.batch, "threads": tg.get_num_threads(), "torch": torch_note, "rows": {}}
    print(f"{title}, float32, batch {args.batch}, {tg.get_num_threads()} threads, {torch_note}; "
          f"median ms of {args.repeats} (ratio = tensorgan / torch)")
    print(f"{'layer':44s} {'fwd':>8s} {'torch':>8s} {'ratio':>6s} {'fwd+bwd':>8s} "
          f"{'torch':>8s} {'ratio':>6s}")
    for spec in layers:
        samples = time_interleaved(contenders(spec, args.batch, torch), args.repeats, args.warmup)
        row = {name: stats_ms(s) for name, s in samples.items()}
        med = {name: r["median_ms"] for name, r in row.items()}
        cells = []
        for part in ("fwd", "fwd+bwd"):
            ours, theirs = med[f"tensorgan {part}"], med.get(f"torch {part}")
            cells.append(f"{ours:8.1f} " + (f"{theirs:8.1f} {ours / theirs:6.2f}" if theirs
                                            else f"{'-':>8s} {'-':>6s}"))
        result["rows"][spec[0]] = row
        print(f"{label(spec):44s} {' '.join(cells)}")
    if args.json:
        write_json(result, args.json)
    return result
