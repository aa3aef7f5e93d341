"""The 3-D convolutions (``tensorgan/conv3d.py``: NumPy/CuPy im2col + one BLAS matmul per group,
no hand-written kernels) beside PyTorch's, timed round-robin in one process.

    python -m benchmarks.layers_3d --repeats 7 --batch 8       # --json [PATH], --no-torch

Each row is a voxel-GAN-sized layer: forward alone, then forward + backward (input and weight
gradients) of ``layer(x).sum()``; medians of warmed-up repeats and the ratio to torch (same
threads, float32).  Without torch installed, tensorgan's times alone.
"""
from __future__ import annotations

import argparse

from ._common import int_at_least, stats_ms, time_interleaved, write_json

# (name, transposed, in channels, out channels, kernel, stride, padding, input edge)
LAYERS = [("ConvTranspose3d 32->16 k4 s2", True, 32, 16, 4, 2, 1, 16),
          ("Conv3d 16->32 k4 s2", False, 16, 32, 4, 2, 1, 32),
          ("Conv3d 32->32 k3 s1", False, 32, 32, 3, 1, 1, 16)]


def _contenders(spec: tuple, batch: int, torch) -> dict:
    import tensorgan as tg
    from tensorgan import nn
    _, transposed, c_in, c_out, k, s, p, edge = spec
    layer = (nn.ConvTranspose3d if transposed else nn.Conv3d)(c_in, c_out, k, stride=s, padding=p)
    x = tg.randn(batch, c_in, edge, edge, edge, requires_grad=True)
    fns = {"tensorgan fwd": lambda: layer(x), "tensorgan fwd+bwd": lambda: layer(x).sum().backward()}
    if torch is not None:
        t_layer = (torch.nn.ConvTranspose3d if transposed else torch.nn.Conv3d)(c_in, c_out, k, stride=s, padding=p)
        tx = torch.randn(batch, c_in, edge, edge, edge, requires_grad=True)
        fns.update({"torch fwd": lambda: t_layer(tx), "torch fwd+bwd": lambda: t_layer(tx).sum().backward()})
    return fns


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int_at_least(1), default=7)
    p.add_argument("--warmup", type=int_at_least(0), default=2)
    p.add_argument("--batch", type=int_at_least(1), default=8)
    p.add_argument("--no-torch", action="store_true", help="time tensorgan alone")
    p.add_argument("--json", nargs="?", const="-", metavar="PATH")
    args = p.parse_args(argv)
    import tensorgan as tg
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(tg.get_num_threads())
        except ImportError:
            pass
    result = {"batch": args.batch, "threads": tg.get_num_threads(), "rows": {}}
    print(f"3-D convolutions, float32, batch {args.batch}, {tg.get_num_threads()} threads; "
          f"median ms of {args.repeats} (ratio = tensorgan / torch)")
    print(f"{'layer (input edge)':36s} {'fwd':>8s} {'torch':>8s} {'ratio':>6s} {'fwd+bwd':>8s} "
          f"{'torch':>8s} {'ratio':>6s}")
    for spec in LAYERS:
        samples = time_interleaved(_contenders(spec, args.batch, torch), args.repeats, args.warmup)
        row = {name: stats_ms(s) for name, s in samples.items()}
        med = {name: r["median_ms"] for name, r in row.items()}
        cells = []
        for part in ("fwd", "fwd+bwd"):
            ours, theirs = med[f"tensorgan {part}"], med.get(f"torch {part}")
            cells.append(f"{ours:8.1f} " + (f"{theirs:8.1f} {ours / theirs:6.2f}" if theirs else f"{'-':>8s} {'-':>6s}"))
        result["rows"][spec[0]] = row
        print(f"{spec[0] + f' ({spec[7]}^3)':36s} {' '.join(cells)}")
    if args.json:
        write_json(result, args.json)
    return result


if __name__ == "__main__":
    main()
