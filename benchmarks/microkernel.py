"""What a hand-written GEMM micro-kernel in Numba can do, at the GEMM shapes our convolutions issue.

    python -m benchmarks.microkernel [--batch 64] [--repeats 9] [--tile 8x48] [--json [PATH]]

Every FLOP of tensorgan's CPU convolutions runs in OpenBLAS (``kernels/cpu/_pack.py``), and the
kernel benchmark's "gemm" column shows those GEMMs alone take about as long as PyTorch's whole
convolution.  OpenBLAS first copies both operands into its own cache-friendly "panel" layout, then
runs a register-tiled micro-kernel over the panels.  A convolution of our own could write its
im2col straight into that panel layout and skip OpenBLAS's copy -- if Numba can express a
micro-kernel as fast as OpenBLAS's.  This benchmark measures exactly that, one thread, on the
(M, K, N) shapes that the DCGAN's convolutions hand to ``np.matmul`` (recorded from the kernels
with ``_pack.record_gemms``, one chunk of images each):

* ``openblas`` -- ``np.matmul(A, B, out=C)`` on the row-major operands our packs produce now
  (OpenBLAS packs both operands inside the call, so its time includes that copy);
* ``ours``     -- ``gemm_packed`` below on operands *already* in panel layout: what a convolution
  whose im2col writes panels would pay for the multiplication;
* ``pack B``   -- the NumPy copy of B into panels, for scale (a fused im2col would not pay it).

The micro-kernel (the BLIS / GotoBLAS design): C's MR x NR tile lives in registers -- with
MR x NR = 8 x 48 that is 24 AVX-512 registers of 16 floats -- while the loop runs over the shared
dimension p: load NR/16 vectors of B's panel row p, and for each of the MR rows broadcast
A[i, p] and do NR/16 fused multiply-adds.  Per p: MR*NR/16 FMA instructions (2*MR*NR FLOPs),
NR*4 + MR*4 bytes read from L1.  ``gemm_packed`` walks the panels: K in blocks of KC (a KC x NR
panel of B stays in L1 while the MR-row panels of A stream from L2), then every (B panel, A panel)
pair.  A is C-order (M/MR, K, MR), B is (N/NR, K, NR); M and N are zero-padded to whole tiles.

Why an ``@intrinsic`` (LLVM IR written through llvmlite) rather than plain Numba loops: the same
loop in plain Numba -- an accumulator array, or 256 scalar accumulators generated as source --
ran at 7-30 GFLOP/s here: LLVM kept the accumulators in memory, or vectorised across p with
gathers.  With explicit ``<16 x float>`` values and ``llvm.fma.v16f32`` it compiles to the
textbook loop (one broadcast, NR/16 FMAs per row, accumulators in zmm registers).  On a CPU
without AVX-512, LLVM splits each vector into narrower ones: the results stay exact, the rate drops.

What it found (two runs of the 8x48 tile, 2026-11-26, see the README's Benchmarks section): at the GEMMs that
carry the convolutions' FLOPs (over 1 ms each), the micro-kernel on ready-made panels runs at
125-151 GFLOP/s, 0.89-1.09x OpenBLAS's time *including* OpenBLAS's own packing: the same rate, not
a faster one.  It wins only at the thin GEMMs (K = 9 or 16, or M = 9; 0.6-0.7x), which are a few
percent of a step.  So a convolution built on it could drop the im2col / shifted-add passes (the
kernel table's "cpu - gemm"), never the multiplications -- and those alone already take about
PyTorch's whole time at the large layers.  It would also need every pack in ``_pack.py`` to
write panel layout (float64 staying on BLAS), a rewrite not attempted; the library does not use
this code.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._common import time_interleaved, json_dest, write_json

VEC = 16                      # float32 lanes of an AVX-512 register
KC = 256                      # rows of a B panel kept in L1 per pass (256 x 48 x 4 B = 48 KiB)


def make_microkernel(MR: int, NR: int):
    """An ``@intrinsic`` computing C[i, j] (+)= sum_p A[a0 + p*MR + i] * B[b0 + p*NR + j] for an
    MR x NR tile of a row-major C (row stride ldc); ``first`` stores instead of adding."""
    if NR % VEC:
        raise ValueError(f"NR must be a multiple of {VEC}, got {NR}")
    f32 = ir.FloatType()
    vec = ir.VectorType(f32, VEC)
    i64 = ir.IntType(64)
    splat_mask = ir.Constant(ir.VectorType(ir.IntType(32), VEC), [0] * VEC)

    @intrinsic
    def microkernel(typingctx, k, A, a0, B, b0, C, c0, ldc, first):
        sig = types.void(k, A, a0, B, b0, C, c0, ldc, first)

        def codegen(context, builder, sig, args):
            k, a, a0, b, b0, c, c0, ldc, first = args
            data = [context.make_array(sig.args[i])(context, builder, v).data
                    for i, v in ((1, a), (3, b), (5, c))]
            Ap, Bp, Cp = (builder.gep(d, [o]) for d, o in zip(data, (a0, b0, c0)))
            fma = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vec, [vec] * 3), "llvm.fma.v16f32")
            zero = ir.Constant(vec, [0.0] * VEC)
            # allocas in the entry block: LLVM's mem2reg turns them into registers
            acc = [[cgutils.alloca_once_value(builder, zero) for _ in range(NR // VEC)]
                   for _ in range(MR)]
            vptr = vec.as_pointer()
            with cgutils.for_range(builder, k) as loop:
                p = loop.index
                brow = builder.gep(Bp, [builder.mul(p, ir.Constant(i64, NR))])
                bv = [builder.load(builder.bitcast(builder.gep(brow, [ir.Constant(i64, j * VEC)]),
                                                   vptr), align=4) for j in range(NR // VEC)]
                acol = builder.gep(Ap, [builder.mul(p, ir.Constant(i64, MR))])
                for i in range(MR):
                    ai = builder.load(builder.gep(acol, [ir.Constant(i64, i)]))
                    av = builder.shuffle_vector(
                        builder.insert_element(ir.Constant(vec, ir.Undefined), ai,
                                               ir.Constant(ir.IntType(32), 0)),
                        ir.Constant(vec, ir.Undefined), splat_mask)
                    for j in range(NR // VEC):
                        builder.store(builder.call(fma, [av, bv[j], builder.load(acc[i][j])]),
                                      acc[i][j])
            store_only = builder.icmp_unsigned("!=", first, ir.Constant(first.type, 0))
            for i in range(MR):
                crow = builder.gep(Cp, [builder.mul(ldc, ir.Constant(i64, i))])
                for j in range(NR // VEC):
                    cptr = builder.bitcast(builder.gep(crow, [ir.Constant(i64, j * VEC)]), vptr)
                    old = builder.select(store_only, zero, builder.load(cptr, align=4))
                    builder.store(builder.fadd(old, builder.load(acc[i][j])), cptr, align=4)
            return context.get_dummy_value()

        return sig, codegen

    return microkernel


_gemms: dict = {}


def make_gemm(MR: int, NR: int):
    """``gemm_packed(Ap, Bp, C, K)``: C (M_pad, N_pad) = A @ B from panel-packed A and B."""
    if (MR, NR) in _gemms:
        return _gemms[MR, NR]
    microkernel = make_microkernel(MR, NR)

    @njit(nogil=True)
    def gemm_packed(Ap, Bp, C, K):
        Mp, Np = C.shape
        cf = C.reshape(-1)
        for pc in range(0, K, KC):
            kc = min(KC, K - pc)
            for jr in range(Np // NR):
                for ir_ in range(Mp // MR):
                    microkernel(kc, Ap, (ir_ * K + pc) * MR, Bp, (jr * K + pc) * NR,
                                cf, ir_ * MR * Np + jr * NR, Np, pc == 0)

    _gemms[MR, NR] = gemm_packed
    return gemm_packed


def _round_up(n: int, m: int) -> int:
    return -(-n // m) * m


def pack_a(A: np.ndarray, MR: int) -> np.ndarray:
    """(M, K) -> (M_pad/MR, K, MR): each MR-row panel stored column by column (zero rows pad M)."""
    M, K = A.shape
    Ap = np.zeros((_round_up(M, MR), K), np.float32)
    Ap[:M] = A
    return np.ascontiguousarray(Ap.reshape(-1, MR, K).transpose(0, 2, 1))


def pack_b(B: np.ndarray, NR: int) -> np.ndarray:
    """(K, N) -> (N_pad/NR, K, NR): each NR-column panel stored row by row (zero columns pad N)."""
    K, N = B.shape
    Bp = np.zeros((K, _round_up(N, NR)), np.float32)
    Bp[:, :N] = B
    return np.ascontiguousarray(Bp.reshape(K, -1, NR).transpose(1, 0, 2))


def matmul_packed(A: np.ndarray, B: np.ndarray, MR: int = 8, NR: int = 48) -> np.ndarray:
    """A @ B through the micro-kernel (packs both operands; for tests and the benchmark)."""
    (M, K), N = A.shape, B.shape[1]
    C = np.empty((_round_up(M, MR), _round_up(N, NR)), np.float32)
    make_gemm(MR, NR)(pack_a(A, MR), pack_b(B, NR), C, K)
    return C[:M, :N]


def conv_gemm_shapes(batch: int) -> list[tuple[str, int, int, int]]:
    """(layer / op, M, K, N, A transposed, B transposed) of the distinct GEMMs that the CPU
    convolutions run for the DCGAN's forward and backward passes -- one chunk of images each.
    A transposed operand is a transposed view that OpenBLAS takes with its transpose flag."""
    from tensorgan.kernels import cpu as CK
    from tensorgan.kernels.cpu import _pack
    from . import kernels as bench
    rng = np.random.default_rng(0)
    shapes, seen = [], set()
    for name, kind, prm in bench.layers(batch):
        if kind not in ("conv", "convT"):
            continue
        for op, _, _, impls, _ in bench.conv_cases(kind, prm, rng, np.float32):
            if op not in ("forward", "backward"):
                continue
            with _pack.record_gemms() as per_thread:
                impls(CK)()
            for gemms in list(per_thread.values())[:1]:
                for (a_shape, a_t), (b_shape, b_t), _ in gemms:
                    key = (a_shape[0], a_shape[1], b_shape[1], a_t, b_t)
                    if key in seen:
                        continue
                    seen.add(key)
                    shapes.append((f"{name} {op}",) + key)
    return shapes


def run(args) -> list[dict]:
    from threadpoolctl import threadpool_limits
    MR, NR = args.tile
    gemm = make_gemm(MR, NR)
    rng = np.random.default_rng(1)
    rows = []
    for where, M, K, N, a_t, b_t in conv_gemm_shapes(args.batch):
        A = rng.standard_normal((K, M) if a_t else (M, K), dtype=np.float32)
        B = rng.standard_normal((N, K) if b_t else (K, N), dtype=np.float32)
        A, B = (A.T if a_t else A), (B.T if b_t else B)      # the layouts the convolution passes
        Ap, Bp = pack_a(A, MR), pack_b(B, NR)
        C = np.empty((Ap.shape[0] * MR, Bp.shape[0] * NR), np.float32)
        out = A @ B
        gemm(Ap, Bp, C, K)
        err = float(np.abs(C[:M, :N] - out).max() / np.abs(out).max())
        with threadpool_limits(1):
            samples = time_interleaved({
                "openblas": lambda: np.matmul(A, B, out=out),
                "ours": lambda: gemm(Ap, Bp, C, K),
                "pack B": lambda: pack_b(B, NR),
            }, repeats=args.repeats, warmup=2, settle_s=0)
        med = {k: float(np.median(v)) * 1e3 for k, v in samples.items()}
        gf = 2.0 * M * K * N / 1e6
        rows.append(dict(where=where, M=M, K=K, N=N, layout=_layout_name(a_t, b_t), rel_err=err,
                         **{f"{k}_ms": v for k, v in med.items()},
                         openblas_gflops=gf / med["openblas"], ours_gflops=gf / med["ours"]))
    return rows


def _layout_name(a_t: bool, b_t: bool) -> str:
    return ("A^T" if a_t else "A") + " @ " + ("B^T" if b_t else "B")


def _tile(s: str) -> tuple[int, int]:
    mr, nr = s.lower().split("x")
    return int(mr), int(nr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.microkernel",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--tile", type=_tile, default=(8, 48), help="MR x NR, NR a multiple of 16")
    ap.add_argument("--json", nargs="?", const="-", default=None, type=json_dest)
    args = ap.parse_args(argv)
    rows = run(args)
    print(f"one thread, float32, tile {args.tile[0]}x{args.tile[1]}, KC {KC}; "
          "ms = median of the repeats")
    print(f"{'layer / op':34s} {'M':>5s} {'K':>5s} {'N':>5s} {'layout':>9s} {'openblas ms':>11s} {'ours ms':>8s} "
          f"{'pack B ms':>9s} {'GF/s blas':>9s} {'GF/s ours':>9s} {'ours/blas':>9s}")
    for r in rows:
        print(f"{r['where']:34s} {r['M']:5d} {r['K']:5d} {r['N']:5d} {r['layout']:>9s} "
              f"{r['openblas_ms']:11.3f} "
              f"{r['ours_ms']:8.3f} {r['pack B_ms']:9.3f} {r['openblas_gflops']:9.1f} "
              f"{r['ours_gflops']:9.1f} {r['ours_ms'] / r['openblas_ms']:9.2f}")
    if args.json is not None:
        write_json({"tile": list(args.tile), "kc": KC, "results": rows}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
