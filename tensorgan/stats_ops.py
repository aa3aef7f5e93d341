"""torch's order statistics, histograms, integration and the rest of its indexing ops: quantile /
nanquantile, nanmedian, mode, histc / histogram, unique_consecutive, unfold, renorm, trapezoid
and cumulative_trapezoid, vander, combinations, masked_scatter, index_reduce, the ``*_scatter``
family, sum_to_size, split_with_sizes, fill_diagonal_, the in-place view ops (``t_``,
``squeeze_``, ...) and the in-place random fills (``exponential_``, ``bernoulli_``, ...).

As in ``shape_index_ops.py``: each op is composed of differentiable Tensor ops (sorting, indexing
whose gradient is a scatter-add, ``SetItem``), so gradients and double backward come for free;
index results are int64 tensors outside the graph; counts and histograms are constants, as
torch's (it has no gradient for them). Each function takes its tensor first and is installed as
the Tensor method of the same name where torch has one.
"""
from __future__ import annotations

import builtins
import itertools
import math
from typing import Any, NamedTuple, Sequence

import numpy as np

from . import ops
from .errors import (AutogradError, ConfigError, DTypeError, DTypeNotImplementedError, EmptyReductionError,
                     IndexOutOfRangeError,
                     InputTypeError, QuantileArgError, SamplingParameterError, ShapeError, WindowArgError)
from .factory import concat, ones
from .random import resolve
from .shape_index_ops import (_as_indices, diagonal_planes, _dim, _index_key, _key_along, pick_along,
                              _scatter_reduce_at, _tensor, _whole, movedim, sort)
from .tensor import (BOOL, FLOAT_DTYPES, MinMax, Tensor, _int_of, _is_int, _mask_fits, _non_int,
                     _remember, _strided_alias, is_grad_enabled, no_grad)


def _float_input(op: str, x: Any) -> Tensor:
    """``x`` checked to be a float32 / float64 Tensor (what torch's statistics accept)."""
    if _tensor(op, x).dtype not in FLOAT_DTYPES:
        raise DTypeNotImplementedError(f"{op}: input must be a float32 or float64 tensor, got "
                                       f"{x.dtype}")       # (torch's "histogram_cpu" for 'Long')
    return x


def _constant(x: Tensor, values: np.ndarray, dtype: Any = None) -> Tensor:
    """Host ``values`` as a constant tensor on ``x``'s device (``x``'s dtype unless given)."""
    return Tensor._make(x.device.xp.asarray(values.astype(x.dtype if dtype is None else dtype)), x.device)


def _along_last(x: Tensor, dim: Any, op: str) -> tuple[Tensor, int]:
    """``x`` (``dim`` None: flattened) with ``dim`` moved last, and that dim's position in ``x``."""
    if dim is None:
        return x.reshape(-1), 0
    if x.ndim == 0:
        _dim(op, x, dim)                         # 0 and -1 only
        return x.reshape(1), 0
    d = x._dim(dim, op)
    return movedim(x, d, -1), d


def _reduced_shape(x: Tensor, dim: Any, keepdim: bool) -> tuple:
    """The shape of a reduction of ``x`` over ``dim`` (None: every dim)."""
    if dim is None:
        return (1,) * x.ndim if keepdim else ()
    if x.ndim == 0:
        return ()
    d = x._dim(dim, "reduce")
    return x.shape[:d] + ((1,) if keepdim else ()) + x.shape[d + 1:]


# ---------------------------------------------------------------------------------------------
# 1. Quantiles, medians, modes
# ---------------------------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_levels(op: str, x: Tensor, q: Any) -> tuple[np.ndarray, bool]:
    """``q`` (a number, or a 0-D / 1-D tensor of ``x``'s dtype) as host float64 levels in [0, 1],
    and whether it was a scalar."""
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise ShapeError(f"{op}: q must be a scalar or a 1-D tensor, got shape {q.shape}")
        if q.dtype != x.dtype:
            raise DTypeError(f"{op}: q must have the input's dtype {x.dtype}, got {q.dtype}")
        levels, scalar = q.numpy().astype(np.float64).reshape(-1), q.ndim == 0
    else:
        from .functional import _scalar
        levels, scalar = np.array([_scalar(op, "q", q)]), True
    if not ((levels >= 0) & (levels <= 1)).all():
        raise QuantileArgError(f"{op}: q must be in the range [0, 1], got {levels[~((levels >= 0) & (levels <= 1))][0]}")
    return levels, scalar


def _quantile(op: str, input: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str,
              skip_nan: bool) -> Tensor:
    """quantile / nanquantile: the sorted values at ``q * (count - 1)``, interpolated as torch
    (NaN sorts last; ``skip_nan`` counts only the others, else a row with a NaN gives NaN)."""
    if _float_input(op, input).dtype == np.float16:
        raise DTypeError(f"{op}: input tensor must be either float or double dtype (as torch), got "
                         f"float16; convert it with .float()")
    if interpolation not in _INTERPOLATIONS:
        raise QuantileArgError(f"{op}: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    levels, scalar = _quantile_levels(op, input, q)
    x, _ = _along_last(input, dim, op)
    if x.numel() == 0:              # (torch: any empty input, also where the reduced dim is not)
        raise ShapeError(f"{op}: input tensor must be non-empty (as torch), got shape {input.shape}")
    ordered = sort(x, -1).values
    nan = np.isnan(ordered.numpy())
    n = x.shape[-1]
    count = (~nan).sum(-1, keepdims=True) if skip_nan else np.full(nan.shape[:-1] + (1,), n)
    pos = levels * (count - 1)                               # (..., Q)
    if interpolation == "nearest":
        low = high = np.round(pos)                           # half to even, as torch.round
    else:
        low, high = np.floor(pos), np.ceil(pos)
        if interpolation == "lower":
            high = low
        elif interpolation == "higher":
            low = high
    undefined = (count == 0) if skip_nan else nan.any(-1, keepdims=True)   # -> a NaN element
    spot = 0 if skip_nan else n - 1
    low = np.where(undefined, spot, low).astype(np.int64)
    high = np.where(undefined, spot, high).astype(np.int64)
    below = ordered[_key_along(ordered, ordered.ndim - 1, low)]
    result = below
    if interpolation in ("linear", "midpoint"):
        above = ordered[_key_along(ordered, ordered.ndim - 1, high)]
        weight = 0.5 if interpolation == "midpoint" else _constant(input, pos - np.floor(pos))
        result = below.lerp(above, weight)
    result = movedim(result, -1, 0).reshape((len(levels),) + _reduced_shape(input, dim, keepdim))
    return result.squeeze_(0) if scalar else result     # (in place: torch's SqueezeBackward4)


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles along ``dim`` (all elements when None): the sorted values at
    position ``q * (n - 1)``, between neighbours as ``interpolation`` says -- 'linear'
    (``a + (b - a) * fraction``), 'lower', 'higher', 'midpoint' or 'nearest' (torch.quantile). A
    1-D ``q`` puts its dim first in the result; a row holding a NaN gives NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, skip_nan=False)


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """:func:`quantile` ignoring NaNs (a row of only NaNs gives NaN; torch.nanquantile)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, skip_nan=True)


def _pick_along(x: Tensor, d: int, index: np.ndarray, keepdim: bool, scalar_input: bool,
                torch_name: str) -> MinMax:
    """``(values, indices)`` of the keepdims ``index`` along dim ``d`` of ``x`` (median-like
    reductions); the values -- node ``torch_name`` -- carry the gradient to the chosen elements."""
    keep = keepdim and not scalar_input
    values = pick_along(x, d, index, keep, torch_name)
    indices = _as_indices(x, index, "index")
    return MinMax(values, indices if keep else indices.reshape(values.shape))


def _dim_of(op: str, input: Tensor, dim: int) -> tuple[Tensor, int]:
    """(input as at least 1-D, the checked dim) for median-like reductions along one dim."""
    x = input.reshape(1) if input.ndim == 0 else input
    d = _dim(op, input, dim)
    if x.shape[d] == 0:
        raise EmptyReductionError(f"{op}: dim {dim} of shape {input.shape} is empty")
    return x, d


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median of the non-NaN elements (NaN where there are none): of all elements, or
    along ``dim`` as ``(values, indices)`` (torch.nanmedian). An all-NaN row's index is its first
    element's (torch's is whichever NaN its partial sort leaves there)."""
    if _tensor("nanmedian", input).dtype == BOOL:   # torch's "median_out" not implemented for 'Bool'
        raise DTypeNotImplementedError("nanmedian: takes a number tensor, got a bool one (convert "
                                       "it with .float())")
    if dim is None:
        flat = input.reshape(-1)
        if flat.shape[0] == 0 and input.dtype.kind != "f":   # as median: NaN has no int form
            raise EmptyReductionError(f"nanmedian: an empty {input.dtype} tensor has no median "
                                      f"(an empty float one gives NaN)")
        if flat.shape[0] == 0:           # NaN, with torch's node (an empty gradient)
            return ops.EvenlyDistributed.apply(input, np.nan, "NanmedianBackward0")
        value = nanmedian(flat.detach(), 0).values.array
        return ops.EvenlyDistributed.apply(input, value, "NanmedianBackward0")   # ties share
    x, d = _dim_of("nanmedian", input, dim)
    a = x.numpy()
    order = np.argsort(a, axis=d, kind="stable")                  # NaN last
    count = (~np.isnan(a)).sum(axis=d, keepdims=True) if a.dtype.kind == "f" else x.shape[d]
    rank = np.broadcast_to(np.maximum((count - 1) // 2, 0), a.shape[:d] + (1,) + a.shape[d + 1:])
    return _pick_along(x, d, np.take_along_axis(order, rank, d), keepdim, input.ndim == 0,
                       "NanmedianBackward1")


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> MinMax:
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and the
    index of its last occurrence (torch.mode on CPU), as ``(values, indices)``; NaNs count as
    one value (its index may differ from torch's, whose sort leaves NaNs in no set order). A
    bool tensor's mode is a bool, as torch's."""
    x, d = _dim_of("mode", _tensor("mode", input), dim)
    rows = np.moveaxis(x.numpy(), d, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    chosen = np.array([_row_mode(r) for r in flat], dtype=np.int64).reshape(rows.shape[:-1] + (1,))
    return _pick_along(x, d, np.moveaxis(chosen, -1, d), keepdim, input.ndim == 0, "ModeBackward0")


def _row_mode(row: np.ndarray) -> int:
    """The index (last occurrence) of the most frequent value of ``row``, the smallest on ties."""
    values, counts = np.unique(row, return_counts=True)
    value = values[np.argmax(counts)]
    hits = np.flatnonzero((row == value) | (np.isnan(row) & np.isnan(value)))
    return int(hits[-1])


# ---------------------------------------------------------------------------------------------
# 2. Histograms and runs
# ---------------------------------------------------------------------------------------------
class Histogram(NamedTuple):
    """torch.return_types.histogram: ``(hist, bin_edges)``."""
    hist: Tensor
    bin_edges: Tensor


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts of the elements in ``bins`` equal-width bins over [min, max] (min == max: the data's
    own range), elements outside ignored, the last bin closed; in the input's dtype, no gradient
    (torch.histc)."""
    from .functional import _scalar
    _float_input("histc", input)
    if not _is_int(bins) or bins <= 0:
        raise ConfigError(f"histc: bins must be an int > 0, got {bins!r}")
    low, high = _scalar("histc", "min", min), _scalar("histc", "max", max)
    if low > high:
        raise ConfigError(f"histc: max must be larger than min, got min={low}, max={high}")
    a = input.numpy().astype(np.float64).reshape(-1)
    if low == high and a.size:
        low, high = float(a.min()), float(a.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"histc: range of [{low}, {high}] is not finite")
    if low == high:
        low, high = low - 1, high + 1
    inside = a[(a >= low) & (a <= high)]
    where = np.minimum(((inside - low) * bins / (high - low)).astype(np.int64), bins - 1)
    return _constant(input, np.bincount(where, minlength=int(bins)))


def histogram(input: Tensor, bins: Any, *, range: Sequence[float] | None = None,
              weight: Tensor | None = None, density: bool = False) -> Histogram:
    """``(hist, bin_edges)``: counts (or the sums of ``weight``) of the elements in ``bins``
    equal-width bins over ``range`` (the data's own range by default), or in the bins a 1-D
    increasing tensor of edges gives; each bin half-open but the last; ``density`` divides by
    the total times the bin widths (torch.histogram). No gradient."""
    _float_input("histogram", input)
    if weight is not None and (_tensor("histogram", weight, "weight").shape != input.shape):
        raise ShapeError(f"histogram: weight must have the input's shape {input.shape}, got {weight.shape}")
    a = input.numpy().astype(np.float64).reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins.numpy().astype(np.float64)
        if bins.ndim != 1 or edges.size < 1 or (np.diff(edges) < 0).any():
            raise ShapeError(f"histogram: bins as a tensor must be 1-D, non-empty and increasing, got "
                             f"shape {bins.shape}")
    elif _is_int(bins) and bins > 0:
        edges = _equal_bins(a, int(bins), range)
        edges = edges.astype(input.dtype).astype(np.float64)
    else:
        raise ConfigError(f"histogram: bins must be an int > 0 or a 1-D tensor of edges, got {bins!r}")
    w = None if weight is None else weight.numpy().astype(np.float64).reshape(-1)
    hist, _ = np.histogram(a, bins=edges, weights=w, density=bool(density))
    return Histogram(_constant(input, hist), _constant(input, edges))


def _equal_bins(a: np.ndarray, bins: int, range: Any) -> np.ndarray:
    """The ``bins + 1`` edges over ``range`` (default: the data's min and max)."""
    if range is None:
        low, high = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)   # (torch's for no data)
    else:
        low, high = (float(v) for v in range)
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ConfigError(f"histogram: range must be finite with min <= max, got [{low}, {high}]")
    if low == high:
        low, high = low - 0.5, high + 0.5   # as numpy: one unit around a single value
    return np.linspace(low, high, bins + 1)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """The first of each run of equal consecutive elements (slices along ``dim``), with
    optionally each element's run number and the run lengths, int64 (torch.unique_consecutive).
    Not differentiable."""
    a = _tensor("unique_consecutive", input).numpy()
    if dim is None:
        rows, shape = a.reshape(-1, 1), a.shape
    else:
        d = _dim("unique_consecutive", input, dim) if input.ndim else 0
        rows, shape = np.moveaxis(a.reshape(a.shape or (1,)), d, 0), (a.shape or (1,))[d:d + 1]
        rows = rows.reshape(rows.shape[0], math.prod(rows.shape[1:]))   # (no -1: 0 rows)
    starts = np.ones(rows.shape[0], dtype=bool)
    starts[1:] = (rows[1:] != rows[:-1]).any(axis=1) if rows.shape[1] else False
    run = np.cumsum(starts) - 1
    if dim is None:
        values = a.reshape(-1)[starts]
    else:
        values = np.compress(starts, a.reshape(a.shape or (1,)), axis=d)
    out = [_constant(input, values)]
    if return_inverse:
        out.append(_as_indices(input, run.reshape(shape), "unique_consecutive"))
    if return_counts:
        out.append(_as_indices(input, np.diff(np.append(np.flatnonzero(starts), rows.shape[0])),
                               "unique_consecutive"))
    return tuple(out) if len(out) > 1 else out[0]


# ---------------------------------------------------------------------------------------------
# 3. Windows, norms, integration, powers, combinations
# ---------------------------------------------------------------------------------------------
def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last dim
    (Tensor.unfold): a view of the input's memory, as torch's (read-only where windows overlap);
    the gradient sums over overlapping windows."""
    x = input.reshape(1) if input.ndim == 0 else input
    d = _dim("unfold", input, dimension)
    size, step = _int_of(size), _int_of(step)
    n = x.shape[d]
    if input.ndim == 0 and _is_int(size) and 0 <= size <= 1 and _is_int(step) and step > 0:
        return x[:size]                          # torch: a 0-d tensor's windows as a 1-D one
    _non_int("unfold", "size and step", (size, step))        # torch's TypeError for a float
    if not _is_int(size) or not 0 <= size <= n:
        raise ShapeError(f"unfold: size {size!r} must be an int from 0 to the size of dim {d} ({n})")
    if not _is_int(step) or step <= 0:
        raise WindowArgError(f"unfold: step must be an int > 0, got {step!r}")
    starts = np.arange((n - size) // step + 1) * step
    index = x.device.xp.asarray(starts[:, None] + np.arange(size)[None, :])
    windows = movedim(x[(slice(None),) * d + (index,)], d + 1, -1)
    a = x.array                 # a view of x's memory, as torch's (its graph: the gather) --
    _strided_alias(x, windows, a, windows.shape,        # an empty one too (no element overlaps)
                   a.strides[:d] + (step * a.strides[d],) + a.strides[d + 1:] + (a.strides[d],),
                   overlapping=step < size and windows.array.size > 0)
    return windows


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to norm
    ``maxnorm`` (by ``maxnorm / (norm + 1e-7)``, as torch.renorm); the others unchanged."""
    from .factory import where
    from .functional import _scalar
    _float_input("renorm", input)
    p, maxnorm = _scalar("renorm", "p", p), _scalar("renorm", "maxnorm", maxnorm)
    if p <= 0:
        raise ConfigError(f"renorm: p must be > 0, got {p}")
    if maxnorm < 0:
        raise ConfigError(f"renorm: maxnorm must be >= 0, got {maxnorm}")
    if input.ndim <= 1:
        raise ShapeError(f"renorm: input needs at least 2 dims, got shape {input.shape}")
    d = input._dim(dim, "renorm")
    norms = input.norm(p, dim=tuple(i for i in range(input.ndim) if i != d), keepdim=True)
    return input * where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


def _trapezoid_terms(op: str, y: Tensor, x: Any, dx: Any, dim: int) -> tuple[Tensor, int]:
    """The areas of the trapezoids between neighbours along ``dim`` (spacing ``x``'s differences
    or ``dx``), and that dim."""
    _tensor(op, y, "y")
    if y.ndim == 0:                 # (torch's IndexError: no dim -1 to integrate along)
        raise IndexOutOfRangeError(f"{op}: y must have at least 1 dim, got a 0-d tensor")
    if y.dtype == BOOL:
        raise DTypeError(f"{op}: received a bool input for `y`, but bool is not supported (as "
                         f"torch); convert it with .float()")
    d = y._dim(dim, op)
    if x is not None and dx is not None:
        raise InputTypeError(f"{op}: give x or dx, not both")
    y = y._arith()
    n = y.shape[d]
    upper = y.narrow(d, builtins.min(n, 1), builtins.max(n - 1, 0))
    lower = y.narrow(d, 0, builtins.max(n - 1, 0))
    if x is None:
        from .functional import _scalar
        step = 1.0 if dx is None else _scalar(op, "dx", dx)
        return (upper + lower) * (step / 2), d
    x = _tensor(op, x, "x")
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ShapeError(f"{op}: a 1-D x must have y's size {n} along dim {d}, got {x.shape[0]}")
        x = x.reshape((n,) + (1,) * (y.ndim - 1 - d))
        spacing = x[builtins.min(n, 1):] - x[:builtins.max(n - 1, 0)]
    else:
        if x.ndim != y.ndim:
            raise ShapeError(f"{op}: x must be 1-D or have y's number of dims {y.ndim}, got {x.shape}")
        m = x.shape[d]
        spacing = x.narrow(d, builtins.min(m, 1), builtins.max(m - 1, 0)) - x.narrow(d, 0, builtins.max(m - 1, 0))
    return (upper + lower) * spacing / 2, d


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: ``sum((y[i] + y[i-1]) / 2 * (x[i] - x[i-1]))``, spacing
    ``dx`` (1 by default) or the points ``x`` (1-D, or y's shape) (torch.trapezoid)."""
    terms, d = _trapezoid_terms("trapezoid", y, x, dx, dim)
    return terms.sum(dim=d)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """torch.trapz: :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
                         dim: int = -1) -> Tensor:
    """The running trapezoidal rule along ``dim`` (one element shorter than y there;
    torch.cumulative_trapezoid)."""
    terms, d = _trapezoid_terms("cumulative_trapezoid", y, x, dx, dim)
    return terms.cumsum(d)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D ``x``: columns ``x**(N-1), ..., x**0`` (``increasing``:
    the other way round), N = len(x) by default (torch.vander); powers by running products, so
    the gradient is exact at 0."""
    if _tensor("vander", x, "x").ndim != 1:
        raise ShapeError(f"vander: x must be 1-D, got shape {x.shape}")
    if x.dtype == BOOL:
        raise DTypeError("vander: x must be a number tensor, got bool")
    n = x.shape[0] if N is None else N
    if not _is_int(n) or n < 0:
        raise ConfigError(f"vander: N must be an int >= 0, got {N!r}")
    if n == 0:
        return x.reshape(-1, 1)[:, :0].to(np.int64 if x.dtype.kind in "iu" else x.dtype)
    column = x.reshape(-1, 1)
    first = ones(x.shape[0], 1, dtype=x.dtype, device=x.device)
    powers = concat([first, column.expand(x.shape[0], n - 1)], 1).cumprod(1)
    return powers if increasing else powers.flip(1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-D input's elements, one per row, in
    itertools.combinations' order (torch.combinations); differentiable."""
    if _tensor("combinations", input).ndim != 1:
        raise ShapeError(f"combinations: input must be 1-D, got shape {input.shape}")
    if not _is_int(r) or r < 0:
        raise ConfigError(f"combinations: r must be an int >= 0, got {r!r}")
    if r == 0:
        return input[:0]
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(input.shape[0]), int(r))), dtype=np.int64).reshape(-1, int(r))
    return input[input.device.xp.asarray(rows)]


# ---------------------------------------------------------------------------------------------
# 4. Scatters: masked, indexed with a reduction, into selections, slices and diagonals
# ---------------------------------------------------------------------------------------------
def _same_dtype(op: str, input: Tensor, src: Tensor, name: str) -> Tensor:
    if _tensor(op, src, name).dtype != input.dtype:
        raise DTypeError(f"{op}: {name} must have the input's dtype {input.dtype}, got {src.dtype}")
    return src


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the places where ``mask`` (bool) is True filled by ``source``'s first
    elements in row-major order (torch.masked_scatter); input and mask are broadcast together,
    as torch's (the in-place form keeps the input's shape)."""
    if _tensor("masked_scatter", mask, "mask").dtype != BOOL:
        raise DTypeError(f"masked_scatter: mask must be a bool tensor, got {mask.dtype}")
    _same_dtype("masked_scatter", _tensor("masked_scatter", input), source, "source")
    try:
        shape = np.broadcast_shapes(input.shape, mask.shape)
    except ValueError:
        raise ShapeError(f"masked_scatter: mask {mask.shape} does not broadcast with the input "
                         f"{input.shape}") from None
    if shape != input.shape:
        input = input.expand(shape)
    where = np.broadcast_to(mask.numpy(), shape)
    count = int(where.sum())
    if count > source.numel():
        raise ShapeError(f"masked_scatter: mask selects {count} places but source has only "
                         f"{source.numel()} elements")
    xp = input.device.xp
    key = tuple(xp.asarray(k) for k in np.nonzero(where)) if where.ndim else xp.asarray(where)
    return ops.SetItem.apply(input, source.reshape(-1)[:count], key)


def index_reduce(input: Tensor, dim: int, index: Any, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``input`` with each slice ``source[..., i, ...]`` of ``dim`` combined into slice
    ``index[i]`` by ``reduce`` -- 'prod', 'mean', 'amax' or 'amin' -- with the input's own
    slice unless ``include_self=False`` (torch.index_reduce; scatter_reduce's gradients)."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ConfigError(f"index_reduce: reduce must be 'prod', 'mean', 'amax' or 'amin', got {reduce!r}")
    if _tensor("index_reduce", input).ndim == 0:
        raise ShapeError("index_reduce: input must have at least 1 dim")
    d, _ = _index_key("index_reduce", input, dim, index, source)      # (checks index and source)
    _same_dtype("index_reduce", input, source, "source")
    shape = [1] * source.ndim
    shape[d] = -1
    full = np.broadcast_to(_whole("index_reduce", index).reshape(shape), source.shape)
    return _scatter_reduce_at("index_reduce", input, _key_along(source, d, full), source, reduce,
                              bool(include_self))


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """``input`` with ``input.select(dim, index)`` replaced by ``src`` (torch.select_scatter)."""
    d = _tensor("select_scatter", input)._dim(dim, "select_scatter")
    if not _is_int(index) or not -input.shape[d] <= index < input.shape[d]:
        raise ShapeError(f"select_scatter: index {index!r} is out of range for dim {d} of size "
                         f"{input.shape[d]}")
    return _scatter_into("select_scatter", input, src, (slice(None),) * d + (int(index),))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """``input`` with ``input[..., start:end:step, ...]`` (along ``dim``) replaced by ``src``
    (torch.slice_scatter)."""
    d = _tensor("slice_scatter", input)._dim(dim, "slice_scatter")
    _non_int("slice_scatter", "step", (step,))
    if not _is_int(step) or step <= 0:
        raise WindowArgError(f"slice_scatter: step must be an int > 0, got {step!r}")
    return _scatter_into("slice_scatter", input, src, (slice(None),) * d + (slice(start, end, step),))


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``input`` with its ``offset``-th diagonal in the planes (dim1, dim2) replaced by ``src``
    (shaped as :func:`diagonal`'s result; torch.diagonal_scatter)."""
    planes, key, dims = diagonal_planes("diagonal_scatter", _tensor("diagonal_scatter", input),
                                        offset, dim1, dim2)
    return movedim(_scatter_into("diagonal_scatter", planes, src, key), (-2, -1), dims)


def _scatter_into(op: str, input: Tensor, src: Tensor, key: tuple) -> Tensor:
    """``input`` with ``input[key]`` replaced by ``src``, which must have exactly its shape; src
    is cast to input's dtype (a graph op: its gradient comes back in its own dtype), as torch's."""
    if _tensor(op, src, "src").dtype != input.dtype:
        src = src.to(input.dtype)
    want = input.array[key].shape
    if src.shape != want:
        raise ShapeError(f"{op}: src must have shape {want} (the part of the input it replaces), "
                         f"got {src.shape}")
    return ops.SetItem.apply(input, src, key)


# ---------------------------------------------------------------------------------------------
# 5. Sizes and splits, diagonals in place, in-place view ops
# ---------------------------------------------------------------------------------------------
def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    """``input`` summed down to ``size``, which must expand to input's shape (the reverse of
    expand; Tensor.sum_to_size)."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    lead = input.ndim - len(size)
    if lead < 0 or not builtins.all(_is_int(s) and s in (1, n) for s, n in zip(size, input.shape[lead:])):
        raise ShapeError(f"sum_to_size: size {size} is not expandable to the input's shape {input.shape}")
    out = input.sum(dim=tuple(range(lead))) if lead else input
    ones_at = tuple(i for i, (s, n) in enumerate(zip(size, out.shape)) if s == 1 and n != 1)
    return out.sum(dim=ones_at, keepdim=True) if ones_at else out


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    """Pieces of the given sizes along ``dim``, which must add up to its length
    (torch.split_with_sizes)."""
    d = _tensor("split_with_sizes", input)._dim(dim, "split_with_sizes")
    sizes = list(split_sizes) if isinstance(split_sizes, (tuple, list)) else None
    if sizes is None or not builtins.all(_is_int(s) and s >= 0 for s in sizes):
        raise InputTypeError(f"split_with_sizes: split_sizes must be a sequence of ints >= 0, got {split_sizes!r}")
    if builtins.sum(sizes) != input.shape[d]:
        raise ShapeError(f"split_with_sizes: split_sizes {sizes} add up to {builtins.sum(sizes)}, not "
                         f"to the size {input.shape[d]} of dim {d}")
    return input.split(sizes, d)


def fill_diagonal_(input: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Fill the main diagonal in place (every dim equal for more than 2; ``wrap``: a tall matrix's
    diagonal starts again below a gap row, as torch.Tensor.fill_diagonal_)."""
    if _tensor("fill_diagonal_", input).ndim < 2:
        raise ShapeError(f"fill_diagonal_: input must have at least 2 dims, got shape {input.shape}")
    if input.ndim > 2 and len(set(input.shape)) != 1:
        raise ShapeError(f"fill_diagonal_: all dims must have equal length beyond 2 dims, got {input.shape}")
    mask = np.zeros(input.shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=bool(wrap))
    where = Tensor._make(input.device.xp.asarray(mask), input.device)
    return input._in_place_from("fill_diagonal_", lambda t: t.masked_fill(where, fill_value),
                                (fill_value,))


def _view_in_place(input: Tensor, name: str, view: Any) -> Tensor:
    """An in-place view op (``t_``, ``squeeze_``, ...): ``input`` takes ``view(input)``'s shape
    and strides over the same memory; on an op's result autograd tracks, also its place in the
    graph (ops that saved the old tensor then refuse backward, by the version check)."""
    if input._requires_grad and is_grad_enabled():
        if input._ctx is None:
            raise AutogradError(f"{name} on a leaf tensor that requires grad: do it on .detach() "
                                 f"or under tensorgan.no_grad()")
        if input._hooks is not None:
            raise AutogradError(f"{name} on a tensor with gradient hooks or retain_grad(): write "
                                 f"it out of place (x = x.{name[:-1]}(...))")
        old = Tensor._make(input.array, input.device, True)
        old._ctx = input._ctx
        new = view(old)
        if new._ctx is not None:
            new._ctx.in_place_view = True   # its input is this tensor's old self (same memory)
        input.array, input._ctx = new.array, new._ctx
        _remember(input, input._version_box[0], old)   # ops that used it before: their gradient
    else:
        with no_grad():
            input.array = view(Tensor._make(input.array, input.device)).array
    # torch's version bump (ops that saved this tensor or a view of it refuse backward), but no
    # values changed: nodes that saved this memory only for its shape or as their output (a
    # live view's SelectBackward0, the new TBackward0) stay valid, as torch's
    input._version_box[0] += 1
    return input


def squeeze_(input: Tensor, dim: Any = None) -> Tensor:
    return _view_in_place(input, "squeeze_", lambda t: t.squeeze(dim))


def unsqueeze_(input: Tensor, dim: int) -> Tensor:
    return _view_in_place(input, "unsqueeze_", lambda t: t.unsqueeze(dim))


def t_(input: Tensor) -> Tensor:
    return _view_in_place(input, "t_", lambda t: t.t())


def transpose_(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return _view_in_place(input, "transpose_", lambda t: t.transpose(dim0, dim1))


swapaxes_ = swapdims_ = transpose_


# ---------------------------------------------------------------------------------------------
# 6. Random fills in place (tensorgan's generators: generator= or the default one)
# ---------------------------------------------------------------------------------------------
def _fill_with(input: Tensor, name: str, draws: np.ndarray) -> Tensor:
    """Overwrite ``input`` with host ``draws`` (cast to its dtype), as ``normal_`` does."""
    values = input.device.xp.asarray(draws.astype(input.dtype))
    return input._in_place(name, lambda a: a.__setitem__(Ellipsis, values),
                           lambda old: ops.Overwrite.apply(old, values))


def _float_fill(op: str, input: Tensor) -> None:
    if _tensor(op, input).dtype not in FLOAT_DTYPES:     # torch: NotImplementedError for 'Long'
        raise DTypeNotImplementedError(f"{op}: fills float tensors only, got {input.dtype}")


def _positive(op: str, name: str, value: Any) -> float:
    from .functional import _scalar
    value = _scalar(op, name, value)
    if not value > 0:
        raise SamplingParameterError(f"{op}: {name} must be > 0, got {value}")
    return value


def exponential_(input: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Refill in place from the exponential distribution of rate ``lambd``."""
    _float_fill("exponential_", input)
    rate = _positive("exponential_", "lambd", lambd)
    return _fill_with(input, "exponential_", resolve(generator, device=input.device).rng.exponential(1.0 / rate, input.shape))


def cauchy_(input: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    """Refill in place from the Cauchy distribution ``median + sigma * tan(pi * (U - 1/2))``."""
    from .functional import _scalar
    _float_fill("cauchy_", input)
    scale = _positive("cauchy_", "sigma", sigma)
    draws = _scalar("cauchy_", "median", median) + scale * resolve(generator, device=input.device).rng.standard_cauchy(input.shape)
    return _fill_with(input, "cauchy_", draws)


def log_normal_(input: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    """Refill in place with ``exp(N(mean, std^2))`` draws."""
    from .functional import _scalar
    _float_fill("log_normal_", input)
    sd = _positive("log_normal_", "std", std)
    return _fill_with(input, "log_normal_", resolve(generator, device=input.device).rng.lognormal(
        _scalar("log_normal_", "mean", mean), sd, input.shape))


def geometric_(input: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Refill in place with the number of Bernoulli(``p``) trials up to the first success
    (1, 2, ...)."""
    from .functional import _scalar
    p = _scalar("geometric_", "p", p)
    if not 0 < p < 1:
        raise SamplingParameterError(f"geometric_: p must be in (0, 1), got {p}")
    if _tensor("geometric_", input).dtype == BOOL:     # torch: "geometric_cpu" not implemented for 'Bool'
        raise DTypeNotImplementedError("geometric_: not implemented for a bool tensor (as torch): "
                                       "the draws are 1, 2, ...")
    return _fill_with(input, "geometric_", resolve(generator, device=input.device).rng.geometric(p, input.shape))


def _probabilities(op: str, input: Tensor, p: Any) -> np.ndarray:
    """``p`` (a number or a tensor broadcasting to input's shape) as host float64 in [0, 1]."""
    if isinstance(p, Tensor):
        probs = p.numpy().astype(np.float64)
    else:
        from .functional import _scalar
        probs = np.array(_scalar(op, "p", p))
    if probs.size and not ((probs >= 0) & (probs <= 1)).all():
        raise SamplingParameterError(f"{op}: p must be in [0, 1]")
    try:
        return np.broadcast_to(probs, input.shape)
    except ValueError:
        raise ShapeError(f"{op}: p of shape {probs.shape} does not broadcast to {input.shape}") from None


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    """0 / 1 draws of input's shape and dtype: 1 with probability ``input`` itself (or ``p``,
    a number or a tensor) -- a constant (Tensor.bernoulli)."""
    if p is None and isinstance(input, Tensor) and input.array.dtype.kind in "iub":
        raise DTypeNotImplementedError(f"bernoulli: not implemented for a {input.dtype} tensor of "
                                       f"probabilities (as torch): pass floats")
    probs = _probabilities("bernoulli", _tensor("bernoulli", input), input if p is None else p)
    draws = resolve(generator, device=input.device).rng.random(input.shape) < probs
    out = _constant(input, draws)
    return ops.with_zero_edge(out, input) if p is None else out     # torch's zero gradient


def bernoulli_(input: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Refill in place with 0 / 1 draws, 1 with probability ``p`` (a number or a tensor)."""
    probs = _probabilities("bernoulli_", _tensor("bernoulli_", input), p)
    return _fill_with(input, "bernoulli_", resolve(generator, device=input.device).rng.random(input.shape) < probs)


def random_(input: Tensor, *bounds: Any, to: Any = None, generator: Any = None) -> Tensor:
    """Refill in place with whole numbers uniform in [from, to - 1]: ``random_(to)``,
    ``random_(from, to)`` (``to=None``: up to the dtype's limit) or ``random_()`` (0 up to the
    dtype's limit: 2**mantissa bits for floats, as torch). ``to`` may be a keyword, as torch's
    ``random_(0, to=n)`` (RobGAN) and ``random_(to=n)``."""
    if len(bounds) > 2 or (to is not None and len(bounds) > 1):
        raise InputTypeError(f"random_: takes at most from and to, got {len(bounds)} bounds"
                             f"{' and to=' + repr(to) if to is not None else ''}")
    if to is not None:
        bounds = (bounds[0] if bounds else 0, to)
    low, high = (0, None) if not bounds else (0, bounds[0]) if len(bounds) == 1 else bounds
    dt = _tensor("random_", input).dtype
    if dt == BOOL:
        limit = 2
    elif dt.kind == "f":
        limit = 2 ** (np.finfo(dt).nmant + 1) + 1
    else:
        limit = int(np.iinfo(dt).max) + 1
    high = limit if high is None else high
    if not (_is_int(low) and _is_int(high)) or not low < high:   # (torch: TypeError / RuntimeError)
        raise SamplingParameterError(f"random_: needs whole numbers from < to, got from={low!r}, to={high!r}")
    if dt.kind in "iub" and (low < (np.iinfo(dt).min if dt.kind != "b" else 0) or high > limit):
        raise SamplingParameterError(f"random_: [{low}, {high}) does not fit in {dt} (as torch, "
                                     f"'out of bounds')")
    if dt.kind == "f" and not (-float(np.finfo(dt).max) <= low and high - 1 <= float(np.finfo(dt).max)):
        raise SamplingParameterError(f"random_: [{low}, {high}) is out of bounds for {dt} (its "
                                     f"largest finite value is {np.finfo(dt).max}), as torch")
    return _fill_with(input, "random_", resolve(generator, device=input.device).rng.integers(int(low), int(high), input.shape))


# ---------------------------------------------------------------------------------------------
# The Tensor methods and the tg.* function forms
# ---------------------------------------------------------------------------------------------
_METHODS = (
    "quantile", "nanquantile", "nanmedian", "mode", "histc", "histogram", "unique_consecutive",
    "unfold", "renorm", "masked_scatter", "index_reduce", "select_scatter", "slice_scatter",
    "diagonal_scatter", "sum_to_size", "split_with_sizes", "fill_diagonal_", "squeeze_",
    "unsqueeze_", "t_", "transpose_", "swapaxes_", "swapdims_", "exponential_", "cauchy_",
    "log_normal_", "geometric_", "bernoulli", "bernoulli_", "random_")
# torch.* has these as functions too (tg.bernoulli is factory.bernoulli, the same draws)
FUNCTIONS = ("quantile", "nanquantile", "nanmedian", "mode", "histc", "histogram",
             "unique_consecutive", "renorm", "masked_scatter", "index_reduce", "select_scatter",
             "slice_scatter", "diagonal_scatter", "split_with_sizes", "trapezoid", "trapz",
             "cumulative_trapezoid", "vander", "combinations")


def _in_place_form(name: str) -> Any:
    out_of_place = globals()[name]

    def in_place(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return input._in_place_from(name + "_", lambda t: out_of_place(t, *args, **kwargs),
                                    tuple(args) + tuple(kwargs.values()))
    in_place.__name__ = in_place.__qualname__ = name + "_"
    in_place.__doc__ = f"In place: ``x.{name}(...)`` written into x."
    return in_place


_masked_scatter_ = _in_place_form("masked_scatter")


def masked_scatter_(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In place: ``x.masked_scatter(mask, source)`` written into x, whose shape the mask must
    broadcast to (torch's expand of the mask)."""
    if isinstance(mask, Tensor) and isinstance(input, Tensor) and mask.shape != input.shape:
        _mask_fits("masked_scatter_", mask.shape, input.shape)
    return _masked_scatter_(input, mask, source)
index_reduce_ = _in_place_form("index_reduce")
renorm_ = _in_place_form("renorm")

for _name in _METHODS + ("masked_scatter_", "index_reduce_", "renorm_"):
    setattr(Tensor, _name, globals()[_name])
functions = {name: globals()[name] for name in FUNCTIONS}
