"""Depthwise convolution on the CPU (``groups == C_in``: MobileNet / ConvNeXt blocks, audio
models' per-channel filters, conv1d included as a height-1 conv2d) as direct loops.

The plain kernels run such a convolution one group at a time: an im2col of ``kH * kW`` rows and
a one-row GEMM per channel -- per-call packing for a handful of multiply-adds per output.  Here
each input plane is copied once into a zero-padded buffer and every tap sweeps the whole output
plane (``out[oh, :] += w[p, q] * padded[oh s + p d, q d :: s]``: no bounds tests in the inner
loop, a contiguous run that vectorizes when the stride is 1); the input gradient is the same
sweep adding into a padded gradient plane, the weight gradient each tap's dot product of the
output-gradient plane with the shifted input plane (summed over planes in float64).
Threads: a run of (image, channel) planes per thread (the weight gradient: a run of channels, so
each channel's sum over the batch is one thread's, in the serial order); one thread runs the
serial build of the same source.  Output channel ``o`` reads input channel
``o // m`` (``m = C_out / C_in``, torch's depth multiplier).  Float32 / float64, any stride,
padding and dilation; compiled on first use (cached on disk)."""
from __future__ import annotations

import types

import numpy as np

_KERNELS: dict = {}


def _compile() -> dict:
    from numba import njit, prange

    # The plane indices are unsigned (np.uint64 throughout: mixing with int64 would give floats)
    # so that Numba emits no negative-index wraparound test, which keeps the inner loops
    # vectorizable (4x on a 3x3 depthwise conv).
    u = np.uint64

    def forward(x, w, y, sh, sw, ph, pw, dh, dw, parts):     # noqa: ANN001 - y zero- or bias-filled
        n_, c_, h_, w_ = x.shape
        co, _, kh, kw = w.shape
        m = co // c_
        oh_, ow_ = u(y.shape[2]), u(y.shape[3])
        sh, sw, dh, dw = u(sh), u(sw), u(dh), u(dw)
        for part in prange(parts):      # a run of (image, channel) planes each
            plane = np.zeros((h_ + 2 * ph, w_ + 2 * pw), dtype=x.dtype)    # the padded input plane
            for nc in range(part * n_ * c_ // parts, (part + 1) * n_ * c_ // parts):
                n, c = nc // c_, nc % c_
                plane[ph:ph + h_, pw:pw + w_] = x[n, c]
                for o in range(c * m, c * m + m):
                    out = y[n, o]
                    for p in range(u(kh)):
                        for q in range(u(kw)):
                            tap, col = w[o, 0, p, q], q * dw
                            for oh in range(oh_):
                                row, dst = plane[oh * sh + p * dh], out[oh]
                                if sw == 1:         # (a separate loop: this one vectorizes)
                                    for ow in range(ow_):
                                        dst[ow] += tap * row[ow + col]
                                else:
                                    for ow in range(ow_):
                                        dst[ow] += tap * row[ow * sw + col]

    def grad_input(gy, w, gx, sh, sw, ph, pw, dh, dw, parts):    # noqa: ANN001
        n_, c_, h_, w_ = gx.shape
        co, _, kh, kw = w.shape
        m = co // c_
        oh_, ow_ = u(gy.shape[2]), u(gy.shape[3])
        sh, sw, dh, dw = u(sh), u(sw), u(dh), u(dw)
        for part in prange(parts):
            plane = np.empty((h_ + 2 * ph, w_ + 2 * pw), dtype=gx.dtype)   # the padded input's gradient
            for nc in range(part * n_ * c_ // parts, (part + 1) * n_ * c_ // parts):
                n, c = nc // c_, nc % c_
                plane[:] = 0
                for o in range(c * m, c * m + m):
                    g = gy[n, o]
                    for p in range(u(kh)):
                        for q in range(u(kw)):
                            tap, col = w[o, 0, p, q], q * dw
                            for oh in range(oh_):
                                dst, src = plane[oh * sh + p * dh], g[oh]
                                if sw == 1:
                                    for ow in range(ow_):
                                        dst[ow + col] += tap * src[ow]
                                else:
                                    for ow in range(ow_):
                                        dst[ow * sw + col] += tap * src[ow]
                gx[n, c] = plane[ph:ph + h_, pw:pw + w_]

    def grad_weight(x, gy, gw, sh, sw, ph, pw, dh, dw, parts):    # noqa: ANN001 - gw float64 zeros
        n_, c_, h_, w_ = x.shape
        co, _, kh, kw = gw.shape
        m = co // c_
        oh_, ow_ = u(gy.shape[2]), u(gy.shape[3])
        sh, sw, dh, dw = u(sh), u(sw), u(dh), u(dw)
        for part in prange(parts):      # a run of channels each (a channel's sum over the batch
            plane = np.zeros((h_ + 2 * ph, w_ + 2 * pw), dtype=x.dtype)    # stays on one thread)
            for nc in range(part * c_ // parts * n_, (part + 1) * c_ // parts * n_):
                c, n = nc // n_, nc % n_
                plane[ph:ph + h_, pw:pw + w_] = x[n, c]
                for o in range(c * m, c * m + m):
                    g = gy[n, o]
                    for p in range(u(kh)):
                        for q in range(u(kw)):
                            col = q * dw
                            acc = x.dtype.type(0)       # one plane in the input's precision
                            for oh in range(oh_):
                                row, src = plane[oh * sh + p * dh], g[oh]
                                if sw == 1:
                                    for ow in range(ow_):
                                        acc += src[ow] * row[ow + col]
                                else:
                                    for ow in range(ow_):
                                        acc += src[ow] * row[ow * sw + col]
                            gw[o, 0, p, q] += acc

    for fn, options in ((forward, {}), (grad_input, {}), (grad_weight, {"fastmath": True})):
        _KERNELS[fn.__name__] = (njit(cache=True, nogil=True, **options)(_renamed(fn, "_serial")),
                                 njit(cache=True, parallel=True, **options)(fn))
    return _KERNELS


def _renamed(fn, suffix: str):
    """A copy of ``fn`` under its own name: Numba's on-disk cache is keyed by qualified name, so
    the serial and the parallel build of one source need two."""
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__,
                              fn.__closure__)
    twin.__qualname__, twin.__module__ = fn.__qualname__ + suffix, fn.__module__
    return twin


def _run(name: str, planes: int, work: int, *args) -> None:
    """Kernel ``name`` on ``planes`` independent (image, channel) or channel units: serial on one
    thread, in a forked child of a process that started OpenMP, inside a small kernel call, or
    below ``PARALLEL_MIN_ELEMENTS`` multiply-adds (kernels.cpu._threads says why); otherwise the
    parallel build, one run of units per thread (order and sums as the serial one's).
    Measured (session 31, 3x3, best wall of 200, 1 -> 2 threads): forward 7 -> 7 us at 36864
    multiply-adds (the crossover sits at the threshold), 92 -> 44 us at 589824; the weight
    gradient 12 -> 9 and 180 -> 85 us; at (16, 256, 28, 28) and (32, 64, 56, 56) the two-thread
    build used no more CPU time than the serial one -- 2 threads never lost above the threshold."""
    from .kernels.cpu import _threads
    serial, parallel = kernels()[name]
    threads = min(_threads.numba_threads(), planes)
    if threads <= 1 or work < _threads.PARALLEL_MIN_ELEMENTS or _threads._serial_only \
            or _threads._small_call.active:
        serial(*args, 1)
    else:
        parallel(*args, threads)


def kernels() -> dict:
    return _KERNELS or _compile()


def output_size(size: int, k: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple, padding: tuple,
         dilation: tuple) -> np.ndarray:
    """``conv2d(x, w, b, stride, padding, dilation, groups=C_in)`` for C-contiguous x and w."""
    n, _, h, wd = x.shape
    co, _, kh, kw = w.shape
    oh = output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = output_size(wd, kw, stride[1], padding[1], dilation[1])
    y = np.zeros((n, co, oh, ow), dtype=x.dtype)
    if b is not None:
        y += b.reshape(1, co, 1, 1)
    _run("forward", n * x.shape[1], y.size * kh * kw, x, w, y, *stride, *padding, *dilation)
    return y


def conv_grads(x: np.ndarray, w: np.ndarray, gy: np.ndarray, stride: tuple, padding: tuple,
               dilation: tuple, need: tuple) -> tuple:
    """(grad x, grad w, grad b) of :func:`conv` where ``need`` asks; ``gy`` C-contiguous."""
    gx = gw = gb = None
    work = gy.size * w.shape[2] * w.shape[3]
    if need[0]:
        gx = np.zeros_like(x)
        _run("grad_input", x.shape[0] * x.shape[1], work, gy, w, gx, *stride, *padding, *dilation)
    if need[1]:
        total = np.zeros(w.shape, dtype=np.float64)
        _run("grad_weight", x.shape[1], work, x, gy, total, *stride, *padding, *dilation)
        gw = total.astype(w.dtype)
    if need[2]:
        gb = gy.sum(axis=(0, 2, 3), dtype=np.float64).astype(gy.dtype)
    return gx, gw, gb
