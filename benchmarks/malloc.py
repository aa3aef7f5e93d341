"""What malloc's defaults cost a training step: glibc's vs ``tensorgan.keep_freed_memory()``.

    python -m benchmarks.malloc [--rounds 4] [--steps 20] [--batch 64] [--json [PATH]]

Each round runs the DCGAN step (``Trainer.train_step``, as in ``benchmarks.train_step``) in two
fresh subprocesses, one with malloc as the C library sets it and one after
``tensorgan.keep_freed_memory()`` (the setting is process-wide and cannot be undone, hence the
subprocesses), and reports per step: minor page faults, kernel (system) CPU time, user CPU time and
wall time, from ``getrusage`` around ``--steps`` steps after a warm-up. Rounds alternate the two
so that the shared machine's load hits both alike; the CPU times are the robust measure there,
the wall time the one users feel.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from ._common import json_dest, write_json

MODES = ("default", "keep")


def probe(mode: str, batch: int, steps: int, warmup: int = 3) -> dict:
    """In the subprocess: per-step faults and CPU / wall milliseconds."""
    from benchmarks.train_step import make_trainer, real_batch
    from tensorgan import keep_freed_memory
    if mode == "keep" and not keep_freed_memory():
        raise SystemExit("keep_freed_memory() did not apply here (not glibc, or MALLOC_* set)")
    trainer, real = make_trainer(batch), real_batch(batch)
    for _ in range(warmup):
        trainer.train_step(real)
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(steps):
        trainer.train_step(real)
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    return {"mode": mode, "faults": (r1.ru_minflt - r0.ru_minflt) / steps,
            "sys_ms": 1e3 * (r1.ru_stime - r0.ru_stime) / steps,
            "user_ms": 1e3 * (r1.ru_utime - r0.ru_utime) / steps,
            "wall_ms": 1e3 * (t1 - t0) / steps}


def run_probe(mode: str, batch: int, steps: int) -> dict:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-m", "benchmarks.malloc", "--probe", mode, "--batch",
                          str(batch), "--steps", str(steps)], capture_output=True, text=True,
                         cwd=root, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


COLUMNS = (("page faults", "faults", "{:.0f}"), ("system CPU ms", "sys_ms", "{:.1f}"),
           ("user CPU ms", "user_ms", "{:.1f}"), ("wall ms", "wall_ms", "{:.1f}"))


def table(rows: list[dict]) -> list[str]:
    """The report's lines: per mode, each column's median (min-max over rounds); columns as wide
    as their widest cell plus two spaces, so that 4-digit values stay apart."""
    body = []
    for mode in MODES:
        mine = [row for row in rows if row["mode"] == mode]
        cells = []
        for _, key, fmt in COLUMNS:
            v = [row[key] for row in mine]
            cells.append(f"{fmt.format(np.median(v))} ({fmt.format(min(v))}-{fmt.format(max(v))})")
        body.append((mode, cells))
    widths = [2 + max(len(head), *(len(cells[i]) for _, cells in body))
              for i, (head, _, _) in enumerate(COLUMNS)]
    lines = [f"{'malloc':<10}" + "".join(f"{head:>{w}}" for (head, _, _), w in zip(COLUMNS, widths))]
    lines += [f"{mode:<10}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths)) for mode, cells in body]
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--json", nargs="?", const="-", default=None, type=json_dest)
    ap.add_argument("--probe", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe, args.batch, args.steps)))
        return 0
    rows = []
    for r in range(args.rounds):
        for mode in (MODES if r % 2 == 0 else MODES[::-1]):
            rows.append(run_probe(mode, args.batch, args.steps))
    print(f"DCGAN train step, batch {args.batch}, {args.rounds} rounds of {args.steps} steps; "
          f"medians per step (min-max over rounds)")
    for line in table(rows):
        print(line)
    wall = {m: np.array([row["wall_ms"] for row in rows if row["mode"] == m]) for m in MODES}
    ratios = wall["keep"] / wall["default"]
    print(f"keep / default wall time, per round: {', '.join(f'{x:.2f}' for x in ratios)} "
          f"(median {np.median(ratios):.2f})")
    if args.json:
        write_json({"batch": args.batch, "steps": args.steps, "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
