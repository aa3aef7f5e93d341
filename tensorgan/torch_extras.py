"""The rest of torch's everyday Tensor methods and top-level names: layout queries (``stride()``,
``storage_offset()``, ``data_ptr()``, ``layout``), the matrix transposes ``mT`` / ``mH`` / ``H`` /
``adjoint``, the no-op complex queries of a real tensor (``is_conj``, ``resolve_conj``, ``real``,
``angle``; complex tensors' own forms are in ``complex_ops.py``, installed over these), ``as_strided``,
``apply_`` / ``map_``, the legacy ``new``, more in-place forms, and top-level factories and
samplers (``asarray``, ``range``, ``frombuffer``, ``poisson``, ``binomial``, ``gradient``,
``histogramdd``, ...).

Layouts: a tensorgan tensor is a NumPy/CuPy array, so ``stride()`` reports that array's strides
in elements -- the same as torch's for contiguous tensors and for the views both make alike
(transpose, slicing, expand), but an op may return a copy where torch returns a view (or the
other way round: ``flip`` is a negative-stride view here), so code must not rely on strides
matching torch's op for op.  ``as_strided`` reads the tensor's elements in row-major order as its
"storage" (torch uses the underlying storage, which for a non-contiguous view differs), and returns
a copy gathered from them (its gradient sums overlapping positions back), not a view.
"""
from __future__ import annotations

import builtins
import operator
import warnings
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from . import functional as F
from .backend import get_device
from .errors import (AutogradError, ConfigError, DeviceError, DTypeError, DTypeNotImplementedError, InputTypeError,
                     SamplingParameterError, ShapeError)
from .factory import cat, full, tensor as _new_tensor
from .math_ops import _in_place_form
from .ops import with_zero_edge
from .random import Generator, resolve
from .tensor import (Tensor, _GradHooks, _check_dtype, _is_int, _legacy_args, _size_args, _strided_alias,
                     _memory_root, _repeats, _view_positions,
                     _to_array, get_default_dtype)


def _tensor_arg(op: str, value: Any, name: str = "input") -> Tensor:
    if not isinstance(value, Tensor):
        raise InputTypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    return value


class Layout:
    """torch's tensor layout (``x.layout``): tensorgan tensors are all dense, ``tg.strided``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"tensorgan.{self.name}"


strided = Layout("strided")


# ---------------------------------------------------------------------------------------------
# Tensor methods
# ---------------------------------------------------------------------------------------------
def _matrix_transpose(self: Tensor) -> Tensor:
    """The last two dims swapped (``mT``)."""
    if self.ndim < 2:
        raise ShapeError(f"mT / mH / adjoint need a tensor of at least 2 dims, got shape {self.shape}")
    return self.transpose(-2, -1)


def _conjugate_transpose(self: Tensor) -> Tensor:
    """``mH`` / ``adjoint()``: the last two dims swapped and conjugated (a real tensor: mT)."""
    return _matrix_transpose(self).conj()


def _hermitian(self: Tensor) -> Tensor:
    """``x.H``: a matrix's conjugate transpose, a 0-d tensor's conjugate (torch refuses other
    ranks: mH for batches)."""
    if self.ndim not in (0, 2):
        raise ShapeError(f"H is only for a matrix or a scalar (use mH for batches), got shape {self.shape}")
    return self.conj() if self.ndim == 0 else self.transpose(0, 1).conj()


def _contiguous_steps(shape: tuple) -> tuple:
    """torch's row-major strides of ``shape`` (an empty dim counts as 1: ``(0, 4)``: (4, 1))."""
    steps, step = [], 1
    for n in reversed(shape):
        steps.append(step)
        step *= max(n, 1)
    return tuple(reversed(steps))


def _array_address(a: Any) -> int:
    """The address of an array's first element (NumPy or CuPy)."""
    interface = getattr(a, "__cuda_array_interface__", None) or a.__array_interface__
    return int(interface["data"][0])


class _TensorExtras:
    """Methods installed on :class:`Tensor` by :func:`install_methods`."""

    mT = property(_matrix_transpose, doc="The last two dims transposed (torch's x.mT).")
    mH = property(_conjugate_transpose, doc="The conjugate transpose of the last two dims (mT for real).")
    H = property(_hermitian, doc="A matrix's conjugate transpose (its transpose for real tensors).")
    layout = property(lambda self: strided, doc="Always tg.strided (dense tensors).")
    adjoint = _conjugate_transpose

    def stride(self, dim: int | None = None) -> Any:
        """The step, in elements, between neighbours along each dim of this tensor's array
        (torch's element strides; see the module docstring for where layouts may differ)."""
        steps = tuple(s // self.array.itemsize for s in self.array.strides)
        if not self.array.size and not any(steps):
            steps = _contiguous_steps(self.array.shape)   # NumPy 2's fresh empty array: zeros
        return steps if dim is None else steps[self._dim(dim, "stride")]

    def storage_offset(self) -> int:
        """Elements from the start of the memory this tensor views to its first element (0 for
        a tensor that owns its memory)."""
        root = self.array
        while isinstance(getattr(root, "base", None), type(self.array)):
            root = root.base
        return (_array_address(self.array) - _array_address(root)) // self.array.itemsize

    def data_ptr(self) -> int:
        """The address of the first element (host or device memory)."""
        return _array_address(self.array)

    def is_inference(self) -> bool:
        """False: inference_mode is no_grad here, whose results are ordinary tensors."""
        return False

    def is_shared(self) -> bool:
        """False: tensorgan has no shared-memory (multiprocessing) tensors."""
        return False

    def share_memory_(self) -> Tensor:
        """torch moves the storage to shared memory for multiprocessing; tensorgan has no
        shared-memory tensors, so this is a no-op returning ``self`` (as ``Module.share_memory``;
        ``tg.multiprocessing`` refuses to hand a trainable tensor to another process)."""
        return self

    def is_complex(self) -> bool:
        return False

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    def resolve_conj(self) -> Tensor:
        return self

    def resolve_neg(self) -> Tensor:
        return self

    real = property(lambda self: self, doc="A real tensor's real part: the tensor itself (as torch).")

    @property
    def imag(self) -> Tensor:
        raise DTypeError("imag is not implemented for tensors with non-complex dtypes (tensorgan's "
                         "tensors are all real)")

    def angle(self) -> Tensor:
        """The argument of a real number: 0 for x >= 0, pi for x < 0, NaN for NaN (float; gradient 0)."""
        xp = self.device.xp
        x = self if self.dtype.kind == "f" else self.to(get_default_dtype())
        values = xp.where(x.array < 0, x.dtype.type(np.pi), x.dtype.type(0)).astype(x.dtype)
        return x._piecewise_constant(xp.where(xp.isnan(x.array), x.array, values), node="AngleBackward0")

    def detach_(self) -> Tensor:
        """Cut this tensor from its graph in place (torch's detach_): a leaf that needs no grad."""
        if len(self._version_box) > 1 and self._ctx is not None:
            raise AutogradError("detach_ on a view that autograd tracks: use .detach() (a new tensor)")
        self._ctx, self._requires_grad = None, False
        return self

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """Call ``hook(tensor)`` after backward has added into this leaf's ``.grad`` (an optimizer
        step per parameter, as torch's); its return value must be None."""
        if self._ctx is not None:
            raise AutogradError("register_post_accumulate_grad_hook: only leaf tensors have a "
                                 "post-accumulate-grad hook (this one is an op's result)")
        if not self._requires_grad:
            raise AutogradError("register_post_accumulate_grad_hook on a tensor that does not require grad")
        if not callable(hook):
            raise InputTypeError(f"register_post_accumulate_grad_hook takes a function, got {type(hook).__name__}")
        return self._post_hooks().add(hook)

    def new(self, *args: Any, **kwargs: Any) -> Tensor:
        """torch's legacy constructor (deprecated there): ``x.new()`` an empty tensor, ``x.new(2, 3)``
        zeros of that size, ``x.new(data)`` a copy of data, ``x.new(tensor)`` that tensor -- in
        x's dtype and device (``device=`` may say another)."""
        device = get_device(kwargs.pop("device", self.device))
        size = kwargs.pop("size", None)
        if kwargs:
            raise InputTypeError(f"new: unexpected keyword arguments {sorted(kwargs)}")
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != self.dtype:
                raise DTypeError(f"new(t): t is a {args[0].dtype} tensor, this one {self.dtype}; "
                                 f"convert it with t.to({self.dtype})")
            return args[0]
        shape, data = _legacy_args(args, size, "new")
        if shape is not None:
            return Tensor._make(device.xp.zeros(shape, self.dtype), device)
        return Tensor._make(_to_array(data, self.dtype, device).copy(), device)

    def narrow_copy(self, dim: int, start: int, length: int) -> Tensor:
        """narrow(...) as a new tensor (not a view)."""
        return self.narrow(dim, start, length).clone()

    def apply_(self, callable: Callable[[Any], Any]) -> Tensor:
        """Each element replaced by ``callable(element)`` (a Python number), in place -- CPU only,
        slow, and not on tensors autograd tracks (as torch's)."""
        return self._elementwise_python("apply_", lambda a: np.frompyfunc(callable, 1, 1)(a), ())

    def map_(self, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
        """Each element replaced by ``callable(element, other's element)`` (``tensor`` broadcast to
        this tensor's shape), in place -- CPU only (as torch's)."""
        other = _tensor_arg("map_", tensor, "tensor")
        if other.device is not self.device:
            raise DeviceError(f"map_: tensor is on {other.device}, self on {self.device}")
        try:
            b = np.broadcast_to(other.array, self.shape)
        except ValueError:
            raise ShapeError(f"map_: tensor of shape {other.shape} does not broadcast to {self.shape}") from None
        return self._elementwise_python("map_", lambda a: np.frompyfunc(callable, 2, 1)(a, b), (other,))

    def _elementwise_python(self, op: str, values: Callable[[np.ndarray], np.ndarray], operands: tuple) -> Tensor:
        if self.device.type != "cpu":
            raise DeviceError(f"{op}() is only implemented on CPU tensors (as torch's); this one is "
                                 f"on {self.device}")

        def update(a):
            a[...] = values(a).astype(a.dtype) if a.size else a
        return self._in_place(op, update, None, operands)

    def as_strided(self, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Tensor:
        """The elements at ``storage_offset + sum(i_k * stride[k])`` for each index ``i`` of
        ``size``, counting in the storage's row-major elements, as torch's: the storage of a view
        (slice, transpose, ...) is the tensor it views (the memory's root), else the tensor
        itself; None (torch's default) is this tensor's own offset in it.  A view of that memory
        when the root is laid out contiguously, as torch's (writable; torch and this refuse only
        writes through a view whose strides repeat elements, see ``_in_place``), else a copy;
        differentiable (overlapping positions get their gradients summed).  Positions in the
        storage but outside this tensor are refused (their gradient would have nowhere to go)."""
        size, stride = _size_args((size,)), tuple(int(s) for s in stride)
        if len(size) != len(stride):
            raise ShapeError(f"as_strided: size {size} and stride {stride} have different lengths")
        if builtins.any(s < 0 for s in stride) or (storage_offset is not None and storage_offset < 0):
            raise ShapeError(f"as_strided: negative strides {stride} or storage_offset {storage_offset}")
        a, xp = self.array, self.device.xp
        root, where = a, None
        if len(self._version_box) > 1 and a.size:       # a view: positions count in its root's memory
            # (the storage: the largest live tensor sharing this memory that holds all of it)
            # (or, its tensors all gone, the memory's owner array)
            live = [r() for r in self._version_box[1]] + [_memory_root(self)]
            owner = a
            while isinstance(getattr(owner, "base", None), type(a)):
                owner = owner.base
            arrays = [t.array for t in sorted({id(t): t for t in live if t is not None and t is not self}
                                              .values(), key=lambda t: -t.numel())
                      if t.array.flags.c_contiguous] + [owner]   # (positions count in memory
            # order: a transposed view or unfold()'s overlapping windows is no storage)
            for candidate in arrays:
                found = None if candidate is a else _view_positions(xp, candidate, a)
                if found is not None and not _repeats(xp, found):
                    root, where = candidate, found
                    break
        own = 0 if where is None else int(where.reshape(-1)[0])    # torch's storage_offset()
        storage_offset = own if storage_offset is None else int(storage_offset)
        index = np.full(size, storage_offset, dtype=np.int64)
        for k, (n, s) in enumerate(zip(size, stride)):
            index += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(size) - k - 1))
        if index.size and index.max() >= root.size:
            raise ShapeError(f"as_strided: size {size}, stride {stride} and storage_offset "
                             f"{storage_offset} reach element {int(index.max())}, out of bounds for "
                             f"a storage of {root.size} elements")
        if not index.size:
            return self.reshape(-1)[:0].reshape(size)
        index = xp.asarray(index)
        if where is not None:        # storage positions -> this tensor's row-major elements
            inverse = xp.full(root.size, -1, dtype=np.int64)
            inverse[where.reshape(-1)] = xp.arange(a.size, dtype=np.int64)
            index = inverse[index]
            if bool((index < 0).any()):
                raise ShapeError(f"as_strided: size {size}, stride {stride} and storage_offset "
                                 f"{storage_offset} reach storage elements outside this tensor of "
                                 f"shape {tuple(self.shape)} (at storage offset {own}); not "
                                 f"supported here: call as_strided on the tensor it views")
        out = self.reshape(-1)[index]
        if root.flags.c_contiguous:    # a view of the storage's memory, as torch's
            overlapping = int(xp.unique(index).size) != index.size
            _strided_alias(self, out, root.reshape(-1)[storage_offset:], size,
                           tuple(s * a.itemsize for s in stride), overlapping)
        return out

    def _post_hooks(self) -> _GradHooks:
        """This tensor's hook record (made on first use)."""
        self._hooks = self._hooks or _GradHooks()
        return self._hooks

    unsafe_chunk = Tensor.chunk
    unsafe_split = Tensor.split


_IN_PLACE = ("addmm", "addbmm", "baddbmm", "addmv", "addr", "arccos", "arcsin", "arctan", "arctan2")


def install_methods(cls: type) -> None:
    """Put this module's methods and in-place forms on ``cls`` (Tensor)."""
    for name, value in vars(_TensorExtras).items():
        if not name.startswith("__"):
            setattr(cls, name, value)
    cls.unsafe_split_with_sizes = cls.split_with_sizes
    for name in _IN_PLACE:
        setattr(cls, name + "_", _in_place_form(name))


install_methods(Tensor)


# ---------------------------------------------------------------------------------------------
# Top-level functions
# ---------------------------------------------------------------------------------------------
def detach(input: Tensor) -> Tensor:
    return _tensor_arg("detach", input).detach()


def is_complex(input: Tensor) -> bool:
    """False: tensorgan's tensors are all real."""
    return _tensor_arg("is_complex", input).is_complex()


def real(input: Tensor) -> Tensor:
    """A real tensor's real part: the tensor itself."""
    return _tensor_arg("real", input).real


def imag(input: Tensor) -> Tensor:
    """Refused: a real tensor has no imaginary part (as torch)."""
    return _tensor_arg("imag", input).imag


def typename(obj: Any) -> str:
    """``x.type()`` for a tensor (``tensorgan.FloatTensor``); a class's or function's qualified
    name; else the qualified name of the object's type (torch.typename's rule)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name is None:
        module, name = type(obj).__module__ or "", type(obj).__qualname__
    return name if module in ("", "builtins") else f"{module}.{name}"


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """torch.asarray: a tensor over ``obj`` -- sharing its memory where dtype and device allow
    (``copy=None``), always a copy (``copy=True``), or never (``copy=False``: refused when one is
    needed)."""
    if isinstance(obj, Tensor):
        t = obj if dtype is None and device is None else obj.to(device=device or obj.device,
                                                              dtype=dtype or obj.dtype)
        t = t.detach() if t is obj else t
    else:
        t = Tensor._from(obj, dtype=dtype, device=device)
    source = obj.array if isinstance(obj, Tensor) else obj
    shares = isinstance(source, (np.ndarray,)) or hasattr(source, "__cuda_array_interface__")
    shares = shares and t.array is source or (t.array.base is source if shares else False)
    if copy is False and not shares:
        raise ConfigError("asarray: copy=False but the data cannot be used without a copy (another "
                          "dtype or device, or not an array)")
    if copy and shares:
        t = Tensor._make(t.array.copy(), t.device)
    return t.requires_grad_(requires_grad) if requires_grad else t


def range(start: float = 0, end: float | None = None, step: float = 1, *, dtype: Any = None,
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """torch.range (deprecated there: use arange): start to ``end`` *inclusive*, in steps of ``step``,
    in the default float dtype even for ints."""
    warnings.warn("tg.range is deprecated (as torch.range) and will be removed; use tg.arange, "
                  "whose end is exclusive", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    if step == 0 or (end - start) * step < 0:
        raise ConfigError(f"range: step {step} does not go from {start} to {end}")
    count = int(np.floor((end - start) / step)) + 1
    dt = _check_dtype(get_default_dtype() if dtype is None else dtype, any_kind=True)
    values = start + np.arange(count, dtype=np.float64) * step
    return _new_tensor(values.astype(dt), requires_grad=requires_grad, device=device)


def fill(input: Tensor, value: Any) -> Tensor:
    """A new tensor of ``input``'s shape, dtype and device, every element ``value`` (torch.fill)."""
    input = _tensor_arg("fill", input)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ShapeError(f"fill: value must be a number or a 0-d tensor, got shape {value.shape}")
        value = value.item()
    return full(input.shape, value, dtype=input.dtype, device=input.device)


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D CPU tensor over a Python buffer (bytes, bytearray, memoryview, array.array) without a
    copy (torch.frombuffer; a read-only buffer gives a read-only tensor)."""
    dt = _check_dtype(dtype, any_kind=True)
    try:
        a = np.frombuffer(buffer, dtype=dt, count=int(count), offset=int(offset))
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"frombuffer: {exc}") from None
    return Tensor._from(a, requires_grad=requires_grad, device="cpu")


def _int_tuple(name: str, sizes: Any) -> tuple:
    """empty_strided's ``size`` / ``stride`` as a tuple of ints: a float is refused, not
    truncated (as torch), and anything else not a sequence of ints names the argument."""
    try:
        return tuple(operator.index(n) for n in sizes)
    except (TypeError, ValueError):
        got = repr(sizes) if isinstance(sizes, (tuple, list)) else type(sizes).__name__
        raise InputTypeError(f"empty_strided: {name} must be a tuple of ints, got {got}") from None


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """torch.empty_strided: a tensor of ``size`` laid out with ``stride`` (in elements) over a
    fresh buffer of zeros just large enough -- as torch's, a stride 0 makes elements share memory
    (in-place writes then refused)."""
    from .factory import zeros
    from .tensor import Tensor, _may_overlap
    size, stride = _int_tuple("size", size), _int_tuple("stride", stride)
    if len(size) != len(stride):
        raise ShapeError(f"empty_strided: dimensionality of sizes ({len(size)}) must match "
                         f"dimensionality of strides ({len(stride)}): size {size}, stride {stride}")
    if any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise ShapeError(f"empty_strided: sizes and strides must not be negative, got size {size} "
                         f"and stride {stride} (as torch refuses)")
    count = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    buf = zeros((count,), dtype=dtype, device=device, requires_grad=requires_grad)
    xp, item = buf.device.xp, buf.array.itemsize
    strides = tuple(s * item for s in stride)
    if xp is np:
        a = np.lib.stride_tricks.as_strided(buf.array, size, strides, writeable=False)
        if not _may_overlap(a):
            a = np.lib.stride_tricks.as_strided(buf.array, size, strides)
    else:
        a = xp.lib.stride_tricks.as_strided(buf.array, size, strides)
    return Tensor._make(a, buf.device, buf.requires_grad)


def constant_pad_nd(input: Tensor, pad: Sequence[int], value: float = 0) -> Tensor:
    """torch.constant_pad_nd: F.pad in 'constant' mode."""
    return F.pad(input, pad, "constant", value)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Poisson samples with the rates ``input`` (>= 0), in its dtype.  As torch's: rates that
    require grad give a sample that does too, with a zero gradient (PoissonBackward0), so the
    rates get zeros, not None; an integer tensor is refused (DTypeNotImplementedError), a
    negative or NaN rate too (SamplingParameterError, a RuntimeError), and a rate NumPy cannot
    draw from (inf, > 9.2e18; torch returns garbage there)."""
    _tensor_arg("poisson", input)
    if input.dtype.kind != "f":
        raise DTypeNotImplementedError(f"poisson: rates must be a float tensor, got {input.dtype}")
    rates = input.numpy().astype(np.float64)
    if not (rates >= 0).all():
        raise SamplingParameterError("poisson: invalid Poisson rate, the rates must be >= 0 (and not NaN)")
    if rates.size and not rates.max() < 9.2e18:
        raise SamplingParameterError(f"poisson: a rate of {rates.max()} is too large to draw from")
    draws = _host_rng(generator).poisson(rates)
    out = Tensor._make(input.device.xp.asarray(draws.astype(input.dtype)), input.device)
    return with_zero_edge(out, input)


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    """Binomial samples: successes in ``count`` trials of probability ``prob`` (broadcast; float
    tensors, the result in their dtype; no gradient)."""
    n, p = _tensor_arg("binomial", count, "count"), _tensor_arg("binomial", prob, "prob")
    if n.dtype.kind != "f" or p.dtype != n.dtype:
        raise DTypeError(f"binomial: count and prob must be float tensors of one dtype, got {n.dtype} and {p.dtype}")
    nv, pv = n.numpy().astype(np.float64), p.numpy().astype(np.float64)
    try:
        nv, pv = np.broadcast_arrays(nv, pv)
    except ValueError:
        raise ShapeError(f"binomial: count {n.shape} and prob {p.shape} do not broadcast") from None
    if not ((pv >= 0) & (pv <= 1)).all() or not (nv >= 0).all():
        raise ConfigError("binomial: prob must be in [0, 1] and count >= 0")
    draws = _host_rng(generator).binomial(nv.astype(np.int64), pv)
    return Tensor._make(n.device.xp.asarray(np.asarray(draws).astype(n.dtype)), n.device)


def _host_rng(generator: Generator | None) -> np.random.Generator:
    """The NumPy stream of ``generator`` (or of the default one)."""
    return resolve(generator).rng


def _slice(x: Tensor, dim: int, start: int | None, stop: int | None) -> Tensor:
    return x[(slice(None),) * dim + (slice(start, stop),)]


def _gradient_along(f: Tensor, d: int, spacing: Any, edge_order: int) -> Tensor:
    """np.gradient along one dim (central differences inside, one-sided ``edge_order`` at the ends);
    ``spacing`` a number (uniform) or a 1-D tensor of coordinates."""
    n = f.shape[d]
    if n < edge_order + 1:
        raise ShapeError(f"gradient: dim {d} has {n} points; edge_order={edge_order} needs at least "
                         f"{edge_order + 1}")

    def s(a, b):
        return _slice(f, d, a, b)
    if not isinstance(spacing, Tensor):
        h = float(spacing)
        inner = (s(2, None) - s(None, -2)) / (2 * h)
        if edge_order == 1:
            first, last = (s(1, 2) - s(0, 1)) / h, (s(-1, None) - s(-2, -1)) / h
        else:
            first = (s(0, 1) * -1.5 + s(1, 2) * 2.0 - s(2, 3) * 0.5) / h
            last = (s(-3, -2) * 0.5 - s(-2, -1) * 2.0 + s(-1, None) * 1.5) / h
        return cat([first, inner, last], dim=d)
    x = spacing.numpy().astype(np.float64)
    shape = (-1,) + (1,) * (f.ndim - d - 1)
    dx = np.diff(x)
    h1, h2 = dx[:-1].reshape(shape), dx[1:].reshape(shape)

    def c(v):
        return Tensor._make(f.device.xp.asarray(np.asarray(v).astype(f.dtype)), f.device)
    inner = (s(None, -2) * c(-h2 / (h1 * (h1 + h2))) + s(1, -1) * c((h2 - h1) / (h1 * h2))
             + s(2, None) * c(h1 / (h2 * (h1 + h2))))
    if edge_order == 1:
        first, last = (s(1, 2) - s(0, 1)) / float(dx[0]), (s(-1, None) - s(-2, -1)) / float(dx[-1])
    else:
        a, b = float(dx[0]), float(dx[1])
        first = (s(0, 1) * (-(2 * a + b) / (a * (a + b))) + s(1, 2) * ((a + b) / (a * b))
                 + s(2, 3) * (-a / (b * (a + b))))
        a, b = float(dx[-2]), float(dx[-1])
        last = (s(-3, -2) * (b / (a * (a + b))) + s(-2, -1) * (-(a + b) / (a * b))
                + s(-1, None) * ((a + 2 * b) / (b * (a + b))))
    return cat([first, inner, last], dim=d)


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None, edge_order: int = 1) -> tuple:
    """torch.gradient: the derivative estimated along each of ``dim`` (all dims by default) by
    second-order central differences inside and ``edge_order`` (1 or 2) one-sided ones at the
    ends; ``spacing`` a number, one number or 1-D coordinate tensor per dim. A tuple, one
    tensor per dim (differentiable)."""
    f = _tensor_arg("gradient", input)
    if f.dtype.kind != "f":
        f = f.to(get_default_dtype())
    if edge_order not in (1, 2):
        raise ConfigError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    dims = tuple(builtins.range(f.ndim)) if dim is None else (dim,) if _is_int(dim) else tuple(dim)
    dims = tuple(f._dim(d, "gradient") for d in dims)
    spacings = spacing if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(spacings) != len(dims):
        raise ShapeError(f"gradient: {len(spacings)} spacings for {len(dims)} dims")
    for d, sp in zip(dims, spacings):
        if isinstance(sp, Tensor) and (sp.ndim != 1 or sp.shape[0] != f.shape[d]):
            raise ShapeError(f"gradient: coordinates for dim {d} must be 1-D of length {f.shape[d]}, got {sp.shape}")
    return tuple(_gradient_along(f, d, sp, edge_order) for d, sp in zip(dims, spacings))


class HistogramDD(NamedTuple):
    hist: Tensor
    bin_edges: list


def histogramdd(input: Tensor, bins: Any = 10, range: Sequence[float] | None = None,
                weight: Tensor | None = None, density: bool = False) -> HistogramDD:
    """torch.histogramdd: counts of the rows of ``input`` (..., D) in a D-dimensional grid of
    bins (``bins`` an int, one int per dim or one 1-D edges tensor per dim; ``range`` a flat
    (min0, max0, min1, max1, ...)); ``weight`` sums instead of counts; no gradient."""
    x = _tensor_arg("histogramdd", input)
    if x.dtype.kind != "f" or x.ndim < 1:
        raise DTypeError(f"histogramdd: input must be a float tensor of shape (..., D), got {x.dtype} {x.shape}")
    dims = x.shape[-1]
    points = x.numpy().astype(np.float64).reshape(-1, dims)
    if isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor):
        edges = [b.numpy().astype(np.float64) for b in bins]
    else:
        counts = [bins] * dims if _is_int(bins) else list(bins)
        if len(counts) != dims or not builtins.all(_is_int(b) and b > 0 for b in counts):
            raise ConfigError(f"histogramdd: bins must be an int > 0 or {dims} of them, got {bins!r}")
        limits = [None] * dims if range is None else [tuple(range[2 * k:2 * k + 2]) for k in builtins.range(dims)]
        if range is not None and len(range) != 2 * dims:
            raise ConfigError(f"histogramdd: range needs {2 * dims} numbers (min, max per dim), got {len(range)}")
        edges = [_edges(points[:, k], int(counts[k]), limits[k]).astype(x.dtype).astype(np.float64)
                 for k in builtins.range(dims)]
    w = None if weight is None else weight.numpy().astype(np.float64).reshape(-1)
    if w is not None and w.size != points.shape[0]:
        raise ShapeError(f"histogramdd: weight must have the input's shape {x.shape[:-1]}, got {weight.shape}")
    hist, _ = np.histogramdd(points, bins=edges, weights=w, density=bool(density))
    def const(a):
        return Tensor._make(x.device.xp.asarray(a.astype(x.dtype)), x.device)
    return HistogramDD(const(hist), [const(e) for e in edges])


def _edges(column: np.ndarray, bins: int, limits: Any) -> np.ndarray:
    low, high = limits if limits is not None else ((column.min(), column.max()) if column.size else (0.0, 1.0))
    if low == high:
        low, high = low - 0.5, high + 0.5   # torch's (and NumPy's) widening of an empty range
    return np.linspace(float(low), float(high), bins + 1)


# -- torch's top-level in-place functional forms --------------------------------------------
def selu_(input: Tensor) -> Tensor:
    return F.selu_(input)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return F.celu_(input, alpha)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
           generator: Generator | None = None) -> Tensor:
    return F.rrelu_(input, lower, upper, training, generator=generator)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return F.threshold_(input, threshold, value)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return F.dropout(input, p, train, True)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return F.alpha_dropout(input, p, train, True)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return F.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return F.feature_alpha_dropout(input, p, train, True)


def _feature_dropout(input: Tensor, p: float, train: bool, inplace: bool) -> Tensor:
    """Dropout of whole (N, C) channels of an input of at least 2 dims (torch.feature_dropout)."""
    F._check_rank("feature_dropout", "input", input, builtins.range(2, 33), "(N, C, *) with at least 2 dims")
    mask = input.shape[:2] + (1,) * (input.ndim - 2)
    return F._dropout("feature_dropout", input, p, train, inplace, None, mask)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return _feature_dropout(input, p, train, False)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _feature_dropout(input, p, train, True)


__all__ = ["strided", "detach", "is_complex", "real", "imag", "typename", "asarray",
           "range", "fill", "frombuffer", "empty_strided", "constant_pad_nd", "poisson", "binomial",
           "gradient", "histogramdd", "selu_", "celu_", "rrelu_", "threshold_", "dropout_",
           "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_", "feature_dropout",
           "feature_dropout_", "compile", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "_assert"]


def _assert(condition: Any, message: str) -> None:
    """``torch._assert(condition, message)``: raise ``AssertionError(message)`` when ``condition``
    is false (a one-element tensor reads as its value). StyleGAN2-ADA's ``misc.assert_shape``
    uses it for its shape checks."""
    if not condition:
        raise AssertionError(message)


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: Any = None,
            backend: Any = "inductor", mode: Any = None, options: Any = None,
            disable: bool = False) -> Any:
    """``torch.compile``: tensorgan has no graph compiler, so the result runs eagerly -- the same
    results, eager speed. A Module comes back wrapped, as torch wraps it, in an
    :class:`OptimizedModule` whose ``_orig_mod`` is the model (its state_dict keys start with
    ``_orig_mod.``; attributes read through to the model); a function comes back unchanged.
    Usable as ``compile(model)``, ``@compile`` and ``@compile(mode=...)``."""
    if mode is not None and options is not None:
        raise ConfigError("compile: give either mode or options, not both (as torch)")
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, disable=disable)
    if not callable(model):
        raise InputTypeError(f"compile: model must be a Module or a callable, got "
                             f"{type(model).__name__}")
    from .nn.module import Module
    if isinstance(model, Module) and not disable:
        return __getattr__("OptimizedModule")(model)
    return model


def _optimized_module_class():
    from .nn.module import Module

    class OptimizedModule(Module):
        """What :func:`compile` makes of a Module (torch._dynamo's OptimizedModule): the model as
        the child ``_orig_mod``, called as it is; attributes it lacks are read from the model."""

        def __init__(self, mod: Module):
            super().__init__()
            self._orig_mod = mod

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return self._orig_mod(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            if name.startswith("__") or name == "_orig_mod":
                raise AttributeError(name)
            return getattr(self._orig_mod, name)

    OptimizedModule.__module__, OptimizedModule.__qualname__ = __name__, "OptimizedModule"
    return OptimizedModule


def __getattr__(name: str) -> Any:
    if name == "OptimizedModule":       # built on first use: nn imports this module's names
        if "OptimizedModule" not in globals():
            globals()["OptimizedModule"] = _optimized_module_class()
        return globals()["OptimizedModule"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_matmul_precision = ["highest"]


def set_float32_matmul_precision(precision: str) -> None:
    """``torch.set_float32_matmul_precision('highest' | 'high' | 'medium')``: accepted and
    recorded (``get_float32_matmul_precision`` says it back), with no effect on the arithmetic:
    tensorgan always computes float32 matmuls and convolutions in float32 (torch's 'highest'),
    never in TF32 or bfloat16.  Another string warns and is ignored, as torch."""
    if not isinstance(precision, str):
        raise InputTypeError(f"set_float32_matmul_precision expects a str, but got "
                             f"{type(precision).__name__}")
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"set_float32_matmul_precision call has no effect.", stacklevel=2)
        return
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    """The value last given to :func:`set_float32_matmul_precision` ('highest' at first);
    tensorgan computes float32 matmuls in float32 whatever it says."""
    return _matmul_precision[0]
