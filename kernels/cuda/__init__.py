"""CUDA kernels for tensorgan, written with Numba, launched on CuPy arrays.

Public functions follow the contract in ``tensorgan.kernels`` (same names and signatures as
``reference`` and ``cpu``).  Each one allocates its output, computes the grid and launches; the
kernels themselves live in one file per family, each opening with its algorithm, cost and launch
configuration:

* ``conv_fwd``   -- conv2d forward, implicit GEMM (also conv_transpose2d's input gradient)
* ``conv_dgrad`` -- conv2d input gradient, implicit GEMM (also conv_transpose2d forward)
* ``conv_wgrad`` -- conv2d weight gradient, split-K implicit GEMM (also conv_transpose2d's)
* ``conv_thin``  -- forward, input and weight gradients when the output has <= 4 channels:
                    direct kernels (a 64-column GEMM tile would be 63/64 padding)
* ``reductions`` -- block-wide shared-memory sums: per-channel sum (bias gradient), batch-norm
                    statistics and backward sums
* ``batchnorm``  -- batch norm's element-wise passes over those reductions; also
                    batch norm fused with leaky ReLU (activation and mask folded into the passes)
* ``leaky_relu`` -- grid-stride element-wise forward and backward
* ``optim``      -- the fused Adam step and the weight average (lerp), grid-stride, one launch
                    per parameter tensor
* ``tiles``      -- the compile-time tile sizes

Only float32 is supported: the shared-memory tiles and accumulators are float32 (other dtypes get
a TypeError; only ``adam_update`` and ``lerp_update`` hand them to the reference's ufuncs).  (Gradient checks in
float64 run on the ``reference``/``cpu`` kernel sets.)

Under ``NUMBA_ENABLE_CUDASIM=1`` the same kernels run on NumPy arrays in Numba's simulator.

Open items (review, session 29; sm_90 SASS from ptxas 13.0, estimates, no GPU timing):
* The tiled kernels' register tile is 8 x 4 a thread (``tiles.multiply_tile``: 3 LDS.128 feed 32
  FFMA a k, the k loop unrolled; 47-53% of a K step's SASS is FFMA, was 27-28% with 4 x 4), 128
  threads a block, 25% occupancy: an estimate, ~1.7-1.9x fewer issue slots a K step, not yet timed
  on a GPU.  Session 30 added a register double buffer (the next K step's loads in flight during
  the multiply) and a per-warp shared transpose for the output stores (32 consecutive pixels a
  warp store): 113-119 registers on sm_90, 107-117 on sm_80 since session 31 (conv2d_dgrad was
  at the 128 cap: see its docstring); both are estimates too, to be timed (e.g. against the
  commit before, 6076381).
* Grids under the H100's 132 SMs at batch 64: conv2d_fwd of D's 64 -> 128 layer (98 blocks;
  split-K or 32-row tiles, ~1.3x there).  (The per-channel reductions now split a channel over
  several blocks, ``_channel_split``: estimated 2-4x on those kernels, not yet timed on a GPU.)
* The rows reductions' loops are not unrolled (one load in flight a thread).
"""

from .. import shapes as _shapes
from ..reference.optim import adam_scalars as _adam_scalars
from . import batchnorm as _bn
from . import conv_dgrad as _dgrad
from . import conv_fwd as _fwd
from . import conv_thin as _thin
from . import conv_wgrad as _wgrad
from . import leaky_relu as _lrelu
from . import optim as _optim
from . import reductions as _reduce
from ._launch import SIMULATOR, asarray as _asarray, cdiv as _cdiv, ew_grid as _ew_grid
from ._launch import launch as _run, register as _register_signatures, xp as _xp
from .conv_thin import THIN_THREADS
from .tiles import BK, BM, BN, EW_MAX_BLOCKS, EW_THREADS, LANES, RED_THREADS, ROW_LANES, THREADS
from .tiles import fastdiv_add_magic as _fastdiv_add_magic, fastdiv_magic as _fastdiv_magic

from .. import KERNEL_API

__all__ = [*KERNEL_API, "KERNELS", "SIMULATOR"]  # the shared contract plus what ptx_report reads

# Every kernel with its explicit signature, threads per block and dynamic shared memory: what
# benchmarks/ptx_report.py compiles and inspects.
KERNELS = (_fwd.KERNELS + _dgrad.KERNELS + _thin.KERNELS + _wgrad.KERNELS + _reduce.KERNELS
           + _bn.KERNELS + _lrelu.KERNELS + _optim.KERNELS)
_register_signatures(KERNELS)

# Split-K sizing for the weight gradient: aim for this many blocks (8 per SM of a 132-SM H100: three
# or four resident at a time, the rest queue behind them) and give every split at least this many K
# steps of BK.  Measured on an H100 (benchmarks.cuda_variants, batch 64): from 264 blocks to 1056,
# G convT 128->64 0.526 -> ~0.41 ms, D conv 64->128 0.155 -> ~0.13, G convT 256->128 0.417 -> ~0.39;
# past that the extra partial sums cost more than the parallelism gains.  D conv 64->128 (K = 3136)
# measured best at 36 splits of 11 K steps (0.131 ms; 18 splits 0.146): hence a floor of 8 steps,
# not 16, which lets the formula below give it 33 splits of 12 steps (ceil(1056 / 32 tiles)).
_WGRAD_TARGET_BLOCKS = 1056
_WGRAD_MIN_STEPS_PER_SPLIT = 8
# conv_thin's weight gradient: at most one wave of blocks -- 4 resident per SM (110 registers x 128
# threads, 33 KB of shared memory) x 132 SMs.  Measured on an H100, G's 64->1 layer (C_in = 64):
# 8 splits (512 blocks) 0.118 ms, 9 (576: a second, nearly empty wave) 0.159, 16 0.123.
_THIN_WGRAD_BLOCKS = 528
# True: thin outputs use the tiled kernels too (the benchmark and the tests compare the two paths).
_FORCE_TILED = False


def _thin_wgrad_splits(c_in, kdim):
    """conv_thin's weight-gradient split of the reduction (length ``kdim``): one wave of blocks
    (``_THIN_WGRAD_BLOCKS`` over the ``c_in`` block rows), at least 8 pixels a thread."""
    return max(1, min(_THIN_WGRAD_BLOCKS // c_in, kdim // (8 * THIN_THREADS)))


def _check_dtype(*arrays):
    # dtype.char, not dtype.name: numpy computes .name in Python (~5 us; measured on the H100 host
    # at 1.1 ms of a 10 ms train step, 75 checks per step).
    for a in arrays:
        if a is not None and a.dtype.char != "f":
            raise TypeError(f"tensorgan.kernels.cuda supports float32 only, got {a.dtype.name}")


def _flat(a):
    return a.reshape(-1)


_MAX_PIXELS = 2 ** 31


def _check_pixel_count(n, h, w, what):
    """The convolution kernels decode flat pixel indices with 32-bit divisions (``tiles.udiv``,
    ``tiles.fastdiv_add``) and 32-bit offsets within a channel, exact below 2**31: refuse a batch
    with more pixels a channel than that (8 GB of float32 a channel) rather than index wrongly."""
    if n * h * w >= _MAX_PIXELS:
        raise ValueError(f"tensorgan.kernels.cuda: {what} has {n} x {h} x {w} = {n * h * w} pixels "
                         f"a channel, over the kernels' 32-bit index range ({_MAX_PIXELS}): split "
                         f"the batch")


# CUDA caps grid.y and grid.z at 65535 blocks: the tiled kernels put their 64-channel column tiles
# on y (and the input gradient's stride phases on z).  Their GEMM's tap axis (C x kH x kW) is
# decoded with tiles.udiv / tiles.fastdiv_add and counted in 32 bits, exact below 2**31.
_MAX_GRID_YZ = 65535
_MAX_TAPS = 2 ** 31


def _check_tiled_launch(channels, taps, phases, what):
    """Refuse a tiled-kernel launch CUDA would reject with a bare 'invalid argument' (grid.y or
    grid.z past 65535) or whose tap index would wrap (``taps`` >= 2**31)."""
    if _cdiv(channels, BN) > _MAX_GRID_YZ:
        raise ValueError(f"tensorgan.kernels.cuda: {what} has {channels} channels: "
                         f"{_cdiv(channels, BN)} tiles of {BN}, over CUDA's grid.y limit "
                         f"({_MAX_GRID_YZ})")
    if phases > _MAX_GRID_YZ:
        raise ValueError(f"tensorgan.kernels.cuda: {what} has {phases} stride phases (stride "
                         f"height x width), over CUDA's grid.z limit ({_MAX_GRID_YZ})")
    if taps >= _MAX_TAPS:
        raise ValueError(f"tensorgan.kernels.cuda: {what} has {taps} weight taps a channel "
                         f"(channels x kH x kW), over the kernels' 32-bit index range "
                         f"({_MAX_TAPS})")


# The input-gradient kernel counts gy's (image, channel) planes in 32 bits (conv_dgrad: one
# register for the thread's first plane, one 32 x 32 -> 64 multiply an A gather).
_MAX_PLANES = 2 ** 32


def _check_plane_count(n, channels, what):
    """Refuse a batch whose ``n x channels`` planes of the kernel's gy would wrap a 32-bit count
    (16 GB of float32 even at 1 x 1 pixels) rather than read the wrong plane."""
    if n * channels >= _MAX_PLANES:
        raise ValueError(f"tensorgan.kernels.cuda: {what} has {n} x {channels} = {n * channels} "
                         f"gradient planes (batch x output channels), over the kernel's 32-bit "
                         f"plane count ({_MAX_PLANES}): split the batch")


_zero_biases = {}


def _zero_bias(n, dtype):
    """The zero bias of a kernel called without one: made once per length, dtype and GPU, not
    allocated and cleared on every call (the kernels only read it)."""
    xp = _xp()
    key = (n, dtype.str, 0 if SIMULATOR else xp.cuda.Device().id)
    z = _zero_biases.get(key)
    if z is None:
        z = _zero_biases[key] = xp.zeros(n, dtype=dtype)
    return z


# ----------------------------------------------------------------------------- convolution
def _conv_fwd(x, w, b, stride, padding, what="conv2d"):
    """conv2d with a weight (C_out, C_in, kH, kW); b of length C_out or None.  ``what``: the
    public kernel, as the errors name it."""
    xp = _xp()
    n, c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    sh, sw = stride
    ph, pw = padding
    oh = _shapes.conv2d_output_size(h, kh, sh, ph)
    ow = _shapes.conv2d_output_size(wd, kw, sw, pw)
    _check_pixel_count(n, max(h, oh), max(wd, ow), what)
    y = xp.empty((n, c_out, oh, ow), dtype=x.dtype)
    if y.size == 0:
        return y
    if c_in * kh * kw == 0:
        y[...] = 0 if b is None else b.reshape(1, -1, 1, 1)
        return y
    bias = _zero_bias(c_out, x.dtype) if b is None else _asarray(b)
    if _thin_output(c_out, kh, kw):
        kernel, grid, threads = _thin.conv2d_fwd_thin_kernel, _cdiv(n * oh * ow, THIN_THREADS), THIN_THREADS
        divisors = ()
    else:
        _check_tiled_launch(c_out, c_in * kh * kw, 1, what)
        kernel, grid, threads = _fwd.conv2d_fwd_kernel, (_cdiv(n * oh * ow, BM), _cdiv(c_out, BN)), THREADS
        # the K loop's (ci, kh, kw): tiles.fastdiv_add's magic numbers for kH*kW and kW
        divisors = (*_fastdiv_add_magic(kh * kw), *_fastdiv_add_magic(kw))
    _run(kernel, grid, threads, _flat(x), _flat(w), bias, _flat(y),
         n, c_in, h, wd, c_out, oh, ow, kh, kw, sh, sw, ph, pw, *divisors)
    return y


def _thin_output(channels, kh, kw):
    """The direct kernels of ``conv_thin`` serve outputs of <= THIN_C channels (see there)."""
    return channels <= _thin.THIN_C and kh * kw <= _thin.KC and not _FORCE_TILED


def _conv_dgrad(gy, w, b, input_hw, stride, padding, what="conv2d input gradient"):
    """conv2d input gradient with a weight (C_out, C_in, kH, kW), plus an optional bias (C_in,)."""
    xp = _xp()
    n, c_out, oh, ow = gy.shape
    _, c_in, kh, kw = w.shape
    h, wd = input_hw
    _check_pixel_count(n, max(h, oh), max(wd, ow), what)
    gx = xp.empty((n, c_in, h, wd), dtype=gy.dtype)
    if gx.size == 0:
        return gx
    bias = _zero_bias(c_in, gy.dtype) if b is None else _asarray(b)
    sh, sw = stride
    if _thin_output(c_in, kh, kw):
        _run(_thin.conv2d_dgrad_thin_kernel, _cdiv(n * h * wd, THIN_THREADS), THIN_THREADS,
             _flat(gy), _flat(w), bias, _flat(gx), n, c_in, h, wd, c_out, oh, ow, kh, kw,
             sh, sw, padding[0], padding[1])
        return gx
    # Both of w's channel strides are 32-bit in the kernel: K's (co, th, tw) and w's per-co stride
    _check_tiled_launch(c_in, max(c_out, c_in) * kh * kw, sh * sw, what)
    _check_plane_count(n, c_out, what)
    # One grid z-slice per stride phase; x sized for the largest phase, (0, 0).
    grid = (_cdiv(n * _cdiv(h, sh) * _cdiv(wd, sw), BM), _cdiv(c_in, BN), sh * sw)
    _run(_dgrad.conv2d_dgrad_kernel, grid, THREADS, _flat(gy), _flat(w), bias, _flat(gx),
         n, c_in, h, wd, c_out, oh, ow, kh, kw, stride[0], stride[1], padding[0], padding[1])
    return gx


def _wgrad_splits(jdim, c_out, kdim):
    tiles = _cdiv(jdim, BM) * _cdiv(c_out, BN)
    max_splits = max(1, kdim // (BK * _WGRAD_MIN_STEPS_PER_SPLIT))
    return max(1, min(_cdiv(_WGRAD_TARGET_BLOCKS, tiles), max_splits))


def _conv_wgrad(x, gy, kernel_hw, stride, padding, splits=None, what="conv2d weight gradient"):
    """conv2d weight gradient (C_out, C_in, kH, kW); ``splits`` forces the split-K factor."""
    xp = _xp()
    n, c_in, h, wd = x.shape
    _, c_out, oh, ow = gy.shape
    kh, kw = kernel_hw
    _check_pixel_count(n, max(h, oh), max(wd, ow), what)
    gw = xp.empty((c_out, c_in, kh, kw), dtype=x.dtype)
    if gw.size == 0:
        return gw
    jdim = c_in * kh * kw
    kdim = n * oh * ow
    if kdim == 0:
        gw[...] = 0
        return gw
    shape_args = (n, c_in, h, wd, c_out, oh, ow, kh, kw, stride[0], stride[1], padding[0],
                  padding[1])
    if _thin_output(c_out, kh, kw) and max(kh, kw) <= _thin.MAX_KSIDE:
        # conv_thin: blocks (ci, z); one wave of them (_THIN_WGRAD_BLOCKS), >= 8 pixels a thread
        if splits is None:
            splits = _thin_wgrad_splits(c_in, kdim)
        k_chunk = _cdiv(kdim, splits)
        kernel, grid, threads = _thin.conv2d_wgrad_thin_kernel, (c_in, _cdiv(kdim, k_chunk)), THIN_THREADS
        divisors = ()
    else:
        _check_tiled_launch(c_out, jdim, 1, what)
        if splits is None:
            splits = _wgrad_splits(jdim, c_out, kdim)
        k_chunk = _cdiv(_cdiv(kdim, splits), BK) * BK
        grid = (_cdiv(jdim, BM), _cdiv(c_out, BN), _cdiv(kdim, k_chunk))
        kernel, threads = _wgrad.conv2d_wgrad_kernel, THREADS
        # the K loop's (n, oh, ow): tiles.fastdiv_add's magic numbers for OH*OW and OW
        divisors = (*_fastdiv_add_magic(oh * ow), *_fastdiv_add_magic(ow))
    splits = _cdiv(kdim, k_chunk)             # every split non-empty
    # One split writes gw itself; S splits write S partial sums, added in a fixed order.
    ws = gw if splits == 1 else xp.empty((splits, gw.size), dtype=x.dtype)
    _run(kernel, grid, threads, _flat(x), _flat(gy), _flat(ws), *shape_args, k_chunk, *divisors)
    if splits > 1:
        _run(_wgrad.splitk_reduce_kernel, _ew_grid(gw.size, EW_THREADS, EW_MAX_BLOCKS),
             EW_THREADS, _flat(ws), _flat(gw), splits, gw.size)
    return gw


def conv2d(x, w, b, stride, padding):
    _check_dtype(x, w, b)
    return _conv_fwd(_asarray(x), _asarray(w), b, tuple(stride), tuple(padding))


def conv2d_grad_input(gy, w, input_hw, stride, padding):
    _check_dtype(gy, w)
    return _conv_dgrad(_asarray(gy), _asarray(w), None, tuple(input_hw), tuple(stride),
                       tuple(padding))


def conv2d_grad_weight(x, gy, kernel_hw, stride, padding):
    _check_dtype(x, gy)
    return _conv_wgrad(_asarray(x), _asarray(gy), tuple(kernel_hw), tuple(stride), tuple(padding))


def conv2d_grad_bias(gy):
    _check_dtype(gy)
    gy = _asarray(gy)
    n, c = gy.shape[:2]
    hw = gy.size // (n * c) if n * c else 0
    if c == 0 or n * hw == 0:
        return _xp().zeros(c, dtype=gy.dtype)
    gb = _xp().empty(c, dtype=gy.dtype)             # every channel's sum is written
    if _bias_rows(n, c, hw):                        # planes under a sector: read rows coalesced
        per_block = LANES // hw
        _run(_reduce.channel_sum_rows_kernel, _cdiv(c, per_block), (LANES, ROW_LANES), _flat(gy),
             gb, n, c, hw, per_block)
    else:
        _check_fastdiv(n * hw, "values a channel (N x H x W)", "conv2d_grad_bias")
        splits, chunk = _channel_split(c, n * hw)
        if splits == 1:
            _run(_reduce.channel_sum_kernel, c, RED_THREADS, _flat(gy), gb, n, c, hw,
                 *_fastdiv_magic(hw))
        else:
            part = _xp().empty(splits * c, dtype=gy.dtype)
            _run(_reduce.channel_sum_split_kernel, (c, splits), RED_THREADS, _flat(gy), part,
                 n, c, hw, *_fastdiv_magic(hw), chunk)
            _run(_reduce.channel_sum_fold_kernel, _fold_grid(c), _reduce.FOLD_THREADS, part, gb,
                 c, splits)
    return gb


# ------------------------------------------------------------------- transposed convolution
# conv_transpose2d is the adjoint of conv2d with the weight read as (C_out_conv, C_in_conv, kH, kW)
# = (C_in, C_out, kH, kW): its forward is conv2d's input gradient, its input gradient is conv2d,
# and its weight gradient is conv2d's weight gradient with the roles of x and gy swapped.
def conv_transpose2d(x, w, b, stride, padding, output_padding):
    _check_dtype(x, w, b)
    sh, sw = stride
    ph, pw = padding
    oph, opw = output_padding
    h, wd = x.shape[2:]
    kh, kw = w.shape[2:]
    out_hw = (_shapes.conv_transpose2d_output_size(h, kh, sh, ph, oph),
              _shapes.conv_transpose2d_output_size(wd, kw, sw, pw, opw))
    return _conv_dgrad(_asarray(x), _asarray(w), b, out_hw, (sh, sw), (ph, pw), "conv_transpose2d")


def conv_transpose2d_grad_input(gy, w, stride, padding):
    _check_dtype(gy, w)
    return _conv_fwd(_asarray(gy), _asarray(w), None, tuple(stride), tuple(padding),
                     "conv_transpose2d input gradient")


def conv_transpose2d_grad_weight(x, gy, kernel_hw, stride, padding):
    _check_dtype(x, gy)
    return _conv_wgrad(_asarray(gy), _asarray(x), tuple(kernel_hw), tuple(stride),
                       tuple(padding), what="conv_transpose2d weight gradient")


def conv2d_backward(x, gy, w, stride, padding, needs):
    """The gradients ``needs`` = (input, weight, bias) asks for: the three kernels above (they
    share no work on the GPU: each is one implicit GEMM or reduction)."""
    need_input, need_weight, need_bias = needs
    return (conv2d_grad_input(gy, w, x.shape[2:], stride, padding) if need_input else None,
            conv2d_grad_weight(x, gy, w.shape[2:], stride, padding) if need_weight else None,
            conv2d_grad_bias(gy) if need_bias else None)


def conv_transpose2d_backward(x, gy, w, stride, padding, needs):
    need_input, need_weight, need_bias = needs
    return (conv_transpose2d_grad_input(gy, w, stride, padding) if need_input else None,
            conv_transpose2d_grad_weight(x, gy, w.shape[2:], stride, padding) if need_weight else None,
            conv2d_grad_bias(gy) if need_bias else None)


# ------------------------------------------------------------------------ batch normalization
def _bn_dims(x):
    n, c = x.shape[:2]
    hw = 1
    for s in x.shape[2:]:
        hw *= s
    return n, c, hw


# (N, C) reductions (BatchNorm1d; the bias gradient of a 1 x 1 output): the (LANES x ROW_LANES)
# kernels read each row's channels coalesced but have only ceil(C / 32) blocks; the
# one-block-per-channel kernels read 4 bytes a 32-byte sector and idle 256 - N threads a block
# when N < 256.  The rows kernels take (N, C) when a thread has at most 32 rows to walk (N <= 256)
# or the grid has >= 128 blocks (about one per SM of an H100: C >= 4096) -- the DCGAN generator's
# projection, N = 64, C = 12544, either way.
_ROWS_MAX_BATCH = 256
_ROWS_MIN_CHANNELS = 4096


def _rows_reduction(n, c, hw):
    return hw == 1 and (n <= _ROWS_MAX_BATCH or c >= _ROWS_MIN_CHANNELS)


# The bias gradient's small planes: with hw < 8 a channel's plane is under one 32-byte sector, so
# the one-block-per-channel kernel's warps fetch 8-28 useful bytes a sector (at (64, 512, 2, 2) a
# warp's 32 values lie in 8 planes of 16 bytes, 8 KB apart).  channel_sum_rows_kernel reads the
# (N, C * hw) rows coalesced, LANES // hw channels a block, under the rows rule above: a thread
# walks at most 32 rows, or C / (LANES // hw) blocks are as many as C >= _ROWS_MIN_CHANNELS gives
# at hw = 1 (128).  From hw = 8 a plane fills whole sectors: the per-channel kernel reads every byte
# it fetches, with C blocks against the rows kernel's C / 4 or fewer.
_BIAS_ROWS_MAX_HW = 8


def _bias_rows(n, c, hw):
    if hw >= _BIAS_ROWS_MAX_HW:
        return False
    return n <= _ROWS_MAX_BATCH or c * LANES >= _ROWS_MIN_CHANNELS * (LANES // hw)


# Channel split of the per-channel reductions (channel_sum, bn_stats, bn_backward_reduce): with one
# block per channel the DCGAN's batch norms at batch 64 launch 64-128 blocks (C) on an H100's 132
# SMs, each walking 3136-50176 values with a few loads in flight a thread.  Splitting each channel
# into S chunks (grid (C, S)) and folding the S partials in a second, one-thread-a-channel launch
# fills the GPU.  The rule: S = min(ceil(_SPLIT_TARGET_BLOCKS / C), count // _SPLIT_MIN_VALUES) --
# about 4 blocks an SM of a 132-SM H100 (the split kernels hold 6-8 resident), each thread walking
# >= 8 values (two of the loops' 4-unrolled iterations: the block_sum tail and the fold are paid
# for); the chunk rounded up to whole block strides (_SPLIT_ALIGN values: every thread but the last
# split's runs the same trip count), S = ceil(count / chunk) so no split is empty.  S = 1 -- C >= 528,
# or under 4096 values a channel -- keeps the single-pass kernel (no fold launch, no workspace).
# At batch 64: (64, 64, 28, 28) 9 splits (576 blocks), (64, 128, 14, 14) 5 (640); (64, 256, 7, 7)
# and (64, 128, 7, 7) stay single-pass (3136 values).  Estimated 2-4x on those kernels (no GPU
# timing yet).
_SPLIT_TARGET_BLOCKS = 528
_SPLIT_MIN_VALUES = 2048
_SPLIT_ALIGN = RED_THREADS


def _channel_split(c, count):
    """(splits, chunk) of each channel's ``count`` values for the per-channel reductions: (1,
    count) when one block a channel is best (see the rule above)."""
    splits = min(_cdiv(_SPLIT_TARGET_BLOCKS, c), count // _SPLIT_MIN_VALUES)
    if splits < 2:
        return 1, count
    chunk = _cdiv(_cdiv(count, splits), _SPLIT_ALIGN) * _SPLIT_ALIGN
    return _cdiv(count, chunk), chunk


def _fold_grid(c):
    return _cdiv(c, _reduce.FOLD_THREADS)


# The element-wise passes decode a plane's channel (planes layout) or a column's (rows layout,
# hw < LANES), the per-channel reductions a value's sample, with tiles.fastdiv, exact for 31-bit
# values.
_MAX_FASTDIV = 2 ** 31
_EW_ROWS_PER_THREAD = 4    # rows layout: samples walked by each thread (the channel's 5 loads
                           # amortised over them)
_EW_VALUES_PER_THREAD = 8  # planes layout: values of a plane walked by each thread


def _bn_elementwise(planes_kernel, rows_kernel, x, arrays, tail):
    """Launch one of batch norm's element-wise passes over x (N, C, hw): the planes kernel
    (grid-stride over the N * C planes, the lanes along each plane) when hw >= LANES, else the
    rows kernel (lanes along the C * hw values of a sample, rows over the N samples).  ``arrays``
    are the kernel's array arguments, ``tail`` the scalars after the layout's."""
    n, c, hw = _bn_dims(x)
    block = (LANES, ROW_LANES)
    if hw >= LANES:
        planes = n * c
        _check_fastdiv(planes, "planes (N x C)")
        gx = min(_cdiv(hw, LANES * _EW_VALUES_PER_THREAD), EW_MAX_BLOCKS)
        gy = min(_cdiv(planes, ROW_LANES), _MAX_GRID_YZ, max(1, EW_MAX_BLOCKS // gx))
        _run(planes_kernel, (gx, gy), block, *arrays, planes, hw, c, *_fastdiv_magic(c), *tail)
        return
    row_len = c * hw
    _check_fastdiv(row_len, "values a sample (C x H x W)")
    gx = min(_cdiv(row_len, LANES), EW_MAX_BLOCKS)
    gy = min(_cdiv(n, ROW_LANES * _EW_ROWS_PER_THREAD), _MAX_GRID_YZ, max(1, EW_MAX_BLOCKS // gx))
    _run(rows_kernel, (gx, gy), block, *arrays, n, row_len, *_fastdiv_magic(hw), *tail)


def _check_fastdiv(value, what, op="batch norm"):
    if value >= _MAX_FASTDIV:
        raise ValueError(f"tensorgan.kernels.cuda: {op} over {value} {what}, over the "
                         f"kernels' 32-bit index range ({_MAX_FASTDIV}): split the batch")


def _bn_statistics(x, running_mean, running_var, training, momentum, eps):
    """(mean, invstd) that normalise x: the batch's (running statistics updated in place when
    given) in training, the running statistics' in eval."""
    xp = _xp()
    n, c, hw = _bn_dims(x)
    dt = x.dtype
    if not training:
        mean = xp.array(running_mean, dtype=dt, copy=True)
        invstd = (1.0 / xp.sqrt(xp.asarray(running_var, dtype=dt) + dt.type(eps))).astype(dt)
        return mean, invstd
    mean = xp.empty(c, dtype=dt)
    invstd = xp.empty(c, dtype=dt)
    update = running_mean is not None and running_var is not None
    if update:
        _check_dtype(running_mean, running_var)
        rm, rv = running_mean, running_var   # updated in place: must be contiguous already
    else:
        rm = rv = xp.empty(1, dtype=dt)
    if not (c and n * hw):
        return mean, invstd
    if _rows_reduction(n, c, hw):
        _run(_reduce.bn_stats_rows_kernel, _cdiv(c, LANES), (LANES, ROW_LANES), _flat(x), mean,
             invstd, rm, rv, n, c, float(eps), float(momentum), int(update))
    else:
        _check_fastdiv(n * hw, "values a channel (N x H x W)")
        splits, chunk = _channel_split(c, n * hw)
        if splits == 1:
            _run(_reduce.bn_stats_kernel, c, RED_THREADS, _flat(x), mean, invstd,
                 rm, rv, n, c, hw, *_fastdiv_magic(hw), float(eps), float(momentum), int(update))
        else:                           # each split's (mean, M2), folded by Chan's formula
            part = xp.empty(2 * splits * c, dtype=dt)
            _run(_reduce.bn_stats_split_kernel, (c, splits), RED_THREADS, _flat(x), part, n, c,
                 hw, *_fastdiv_magic(hw), chunk)
            _run(_reduce.bn_stats_fold_kernel, _fold_grid(c), _reduce.FOLD_THREADS, part, mean,
                 invstd, rm, rv, c, splits, chunk, n * hw, float(eps), float(momentum),
                 int(update))
    return mean, invstd


def _affine(weight, bias, c, dt):
    xp = _xp()
    return (xp.ones(c, dtype=dt) if weight is None else _asarray(weight),
            xp.zeros(c, dtype=dt) if bias is None else _asarray(bias))


# ----------------------------------------------------------- batch norm (+ fused leaky ReLU)
def batch_norm_leaky_relu(x, running_mean, running_var, weight, bias, training, momentum, eps,
                          negative_slope):
    _check_dtype(x, weight, bias)
    x = _asarray(x)
    n, c, hw = _bn_dims(x)
    mean, invstd = _bn_statistics(x, running_mean, running_var, training, momentum, eps)
    w, b = _affine(weight, bias, c, x.dtype)
    y = _xp().empty_like(x)
    if x.size:
        _bn_elementwise(_bn.bn_normalize_kernel, _bn.bn_normalize_rows_kernel, x,
                        (_flat(x), mean, invstd, w, b, _flat(y)), (float(negative_slope),))
    return y, mean, invstd


def batch_norm_leaky_relu_backward(gy, x, weight, bias, mean, invstd, training, negative_slope):
    _check_dtype(gy, x, weight, bias, mean, invstd)
    xp = _xp()
    gy = _asarray(gy)
    x = _asarray(x)
    mean = _asarray(mean)
    invstd = _asarray(invstd)
    n, c, hw = _bn_dims(x)
    w, b = _affine(weight, bias, c, x.dtype)
    reduce = c and n * hw          # the reduction writes every channel's sums when it runs
    gweight = (xp.empty if reduce else xp.zeros)(c, dtype=x.dtype)
    gbias = (xp.empty if reduce else xp.zeros)(c, dtype=x.dtype)
    slope = float(negative_slope)
    if reduce and _rows_reduction(n, c, hw):
        _run(_reduce.bn_backward_reduce_rows_kernel, _cdiv(c, LANES), (LANES, ROW_LANES),
             _flat(gy), _flat(x), mean, invstd, w, b, gweight, gbias, n, c, slope)
    elif reduce:
        _check_fastdiv(n * hw, "values a channel (N x H x W)")
        _bn_backward_reduce(gy, x, mean, invstd, w, b, gweight, gbias, slope)
    gx = xp.empty_like(x)
    if x.size:
        _bn_elementwise(_bn.bn_backward_input_kernel, _bn.bn_backward_input_rows_kernel, x,
                        (_flat(gy), _flat(x), mean, invstd, w, b, gweight, gbias, _flat(gx)),
                        (n * hw, int(bool(training)), slope))
    return gx, gweight, gbias


def _bn_backward_reduce(gy, x, mean, invstd, w, b, gweight, gbias, slope):
    """gweight, gbias by the per-channel kernels: one block a channel, or split (_channel_split)
    and folded."""
    n, c, hw = _bn_dims(x)
    magic = _fastdiv_magic(hw)
    splits, chunk = _channel_split(c, n * hw)
    if splits == 1:
        _run(_reduce.bn_backward_reduce_kernel, c, RED_THREADS, _flat(gy), _flat(x), mean,
             invstd, w, b, gweight, gbias, n, c, hw, *magic, slope)
        return
    part = _xp().empty(2 * splits * c, dtype=x.dtype)
    _run(_reduce.bn_backward_split_kernel, (c, splits), RED_THREADS, _flat(gy), _flat(x),
         mean, invstd, w, b, part, n, c, hw, *magic, slope, chunk)
    _run(_reduce.bn_backward_fold_kernel, _fold_grid(c), _reduce.FOLD_THREADS, part, invstd,
         gweight, gbias, c, splits)


# --------------------------------------------------------------------------------- leaky ReLU
def leaky_relu(x, negative_slope):
    _check_dtype(x)
    x = _asarray(x)
    y = _xp().empty_like(x)
    if x.size:
        _run(_lrelu.leaky_relu_fwd_kernel, _ew_grid(x.size, EW_THREADS, EW_MAX_BLOCKS),
             EW_THREADS, _flat(x), _flat(y), float(negative_slope), x.size)
    return y


def leaky_relu_backward(gy, x, negative_slope):
    _check_dtype(gy, x)
    gy = _asarray(gy)
    x = _asarray(x)
    gx = _xp().empty_like(x)
    if x.size:
        _run(_lrelu.leaky_relu_bwd_kernel, _ew_grid(x.size, EW_THREADS, EW_MAX_BLOCKS),
             EW_THREADS, _flat(gy), _flat(x), _flat(gx), float(negative_slope), x.size)
    return gx


def batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps):
    """Plain batch norm: the fused kernels with slope 1 (the activation is the identity)."""
    return batch_norm_leaky_relu(x, running_mean, running_var, weight, bias, training, momentum,
                                 eps, 1.0)


def batch_norm_backward(gy, x, weight, mean, invstd, training):
    """With slope 1 the mask is all ones and the bias plays no part."""
    return batch_norm_leaky_relu_backward(gy, x, weight, None, mean, invstd, training, 1.0)


# ------------------------------------------------------------------------------- optimizer
def adam_update(p, g, m, v, lr, beta1, beta2, eps, step):
    """One Adam step in place, one launch (float32; other dtypes take the reference's ufuncs)."""
    if p.dtype.char != "f":            # .char, not .name: see _check_dtype
        from ..reference.optim import adam_update as ufuncs
        ufuncs(p, g, m, v, lr, beta1, beta2, eps, step, xp=_xp())
        return
    _check_dtype(g, m, v)
    c1, c2, inv_bc2, step_size = _adam_scalars(lr, beta1, beta2, step)
    if p.size:
        _run(_optim.adam_kernel, _ew_grid(p.size, EW_THREADS, EW_MAX_BLOCKS), EW_THREADS,
             p, g, m, v, float(beta1), c1, float(beta2), c2, inv_bc2, float(eps), step_size, p.size)


def lerp_update(a, end, weight, out):
    """out = lerp(a, end, weight), one launch (float32; other dtypes take the reference's ufuncs)."""
    if a.dtype.char != "f":
        from ..reference.optim import lerp_update as ufuncs
        ufuncs(a, end, weight, out, xp=_xp())
        return
    _check_dtype(end, out)
    small = abs(weight) < 0.5
    if a.size:
        _run(_optim.lerp_kernel, _ew_grid(a.size, EW_THREADS, EW_MAX_BLOCKS), EW_THREADS,
             a, end, out, float(weight if small else 1.0 - weight), int(small), a.size)
