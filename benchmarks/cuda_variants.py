"""CUDA kernel variants, side by side on a GPU: the choices the glue in tensorgan.kernels.cuda makes.

    python -m benchmarks.cuda_variants [--batch 64] [--repeats 50] [--json [PATH]]

At the DCGAN's convolution shapes (``benchmarks.kernels.layers``) it times, with CUDA events
(median of warmed-up repeats):

* the tiled weight gradient's split-K factor: the glue's choice (``_wgrad_splits``) against 1/4,
  1/2, 2x, 4x and 8x it (capped at one K step of BK per split), each with its reduction launch;
* for outputs of <= 4 channels, the direct kernels of ``conv_thin`` (forward, input gradient,
  weight gradient at a few split factors) against the tiled implicit-GEMM ones (``_FORCE_TILED``).

Without a GPU (or under the CUDA simulator) it says so and exits: there is nothing to time.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from ._common import cupy_event_samples, stats_ms, json_dest, write_json
from .kernels import layers




def _conv_shapes(batch):
    """(layer, which pass, x shape, gy shape, kernel, stride, padding) of every weight gradient,
    as conv2d sees it (a transposed convolution's weight gradient is conv2d's with x and gy swapped)."""
    from tensorgan.kernels import shapes
    out = []
    for name, kind, p in layers(batch):
        if kind not in ("conv", "convT"):
            continue
        n, c, h, w = p["x"]
        k, s, pad = p["k"], p["s"], p["p"]
        if kind == "conv":
            o = shapes.conv2d_output_size(h, k, s, pad)
            out.append((name, (n, c, h, w), (n, p["cout"], o, o), k, s, pad))
        else:
            o = shapes.conv_transpose2d_output_size(h, k, s, pad, 0)
            out.append((name, (n, p["cout"], o, o), (n, c, h, w), k, s, pad))   # conv2d's x = output
    return out


def run(args) -> dict:
    from tensorgan import backend
    ok, why = backend.cuda_status()
    if not ok or backend.simulator_enabled():
        raise SystemExit(f"cuda_variants: no GPU to time ({why if not ok else 'the simulator is on'})")
    import cupy

    from tensorgan.kernels import cuda as kc
    from tensorgan.kernels.cuda.tiles import BK
    def time_it(fn):
        return stats_ms(cupy_event_samples(fn, args.repeats, args.warmup))
    rng = np.random.default_rng(0)
    rows = []
    for name, xs, gs, k, s, p in _conv_shapes(args.batch):
        x = cupy.asarray(rng.standard_normal(xs, dtype=np.float32))
        gy = cupy.asarray(rng.standard_normal(gs, dtype=np.float32))
        jdim, kdim = xs[1] * k * k, gs[0] * gs[2] * gs[3]
        auto = kc._wgrad_splits(jdim, gs[1], kdim)
        cap = max(1, kdim // BK)
        candidates = sorted({max(1, min(cap, round(auto * f))) for f in (0.25, 0.5, 1, 2, 4, 8)})
        thin_in, thin_out = xs[1] <= kc._thin.THIN_C, gs[1] <= kc._thin.THIN_C
        kc._FORCE_TILED = True
        try:
            for splits in candidates:
                st = time_it(lambda: kc._conv_wgrad(x, gy, (k, k), (s, s), (p, p), splits=splits))
                rows.append({"layer": name, "pass": "grad_weight", "variant": f"tiled splits={splits}"
                             + (" (glue)" if splits == auto and not thin_out else ""), **st})
        finally:
            kc._FORCE_TILED = False
        if thin_out and k <= kc._thin.MAX_KSIDE:     # conv_thin's weight gradient and its splits
            for splits in (None, 4, 8, 16, 32):
                st = time_it(lambda: kc._conv_wgrad(x, gy, (k, k), (s, s), (p, p), splits=splits))
                rows.append({"layer": name, "pass": "grad_weight",
                             "variant": "direct (glue)" if splits is None else f"direct splits={splits}",
                             **st})
        w = cupy.asarray(rng.standard_normal((gs[1], xs[1], k, k), dtype=np.float32))
        for force in (False, True):
            kc._FORCE_TILED = force
            variant = "tiled" if force else "direct"
            try:
                if thin_out:
                    st = time_it(lambda: kc.conv2d(x, w, None, (s, s), (p, p)))
                    rows.append({"layer": name, "pass": "conv2d forward", "variant": variant, **st})
                if thin_in:
                    st = time_it(lambda: kc.conv2d_grad_input(gy, w, xs[2:], (s, s), (p, p)))
                    rows.append({"layer": name, "pass": "conv2d grad_input", "variant": variant, **st})
            finally:
                kc._FORCE_TILED = False
    return {"batch": args.batch, "repeats": args.repeats, "gpu": why, "results": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", nargs="?", const="-", default=None, type=json_dest)
    args = ap.parse_args(argv)
    result = run(args)
    out = sys.stderr if args.json == "-" else sys.stdout
    print(f"{'layer':24s} {'pass':18s} {'variant':22s} {'median ms':>10s} {'p10-p90 ms':>16s}", file=out)
    for r in result["results"]:
        print(f"{r['layer']:24s} {r['pass']:18s} {r['variant']:22s} {r['median_ms']:10.3f} "
              f"{r['p10_ms']:7.3f}-{r['p90_ms']:.3f}", file=out)
    print(f"batch {result['batch']}, float32, CUDA events; {result['gpu']}", file=out)
    if args.json:
        write_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
