"""More of torch's rarer names (a second ``dir(torch)`` sweep): ``tg.dtype`` / ``tg.layout`` for
``isinstance`` tests, storages (``x.untyped_storage()`` / ``x.storage()``, for memory-sharing
checks), ``pin_memory`` / ``is_pinned``, the device queries torch has (``is_meta``, ``is_mps``,
...), ``as_strided_`` / ``as_strided_scatter``, the deprecated ``resize`` / ``resize_as``,
``as_subclass``, the ``*_copy`` functional variants (``view_copy``, ``permute_copy``, ...: the
op's result as a new contiguous tensor, differentiable), ``empty_permuted``, ``nonzero_static``,
``set_default_tensor_type``, the deterministic debug mode, DLPack exchange, eager ``cond`` /
``while_loop`` and the ``embedding_bag`` / ``convolution`` function forms.

Everything here is a new name; no existing Tensor method or hot path changes.
"""
from __future__ import annotations

import builtins
import ctypes
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from . import functional as F
from .backend import get_device
from .errors import (AutogradError, ConfigError, DeviceError, DTypeError, InputTypeError,
                     MemoryOverlapError, ShapeError)
from .tensor import Tensor, _check_dtype, _check_grad_dtype, _is_int, _share, _size_args, bfloat16, get_default_dtype
from .torch_extras import Layout, _array_address, _tensor_arg


# ---------------------------------------------------------------------------------------------
# tg.dtype / tg.layout
# ---------------------------------------------------------------------------------------------
class _DTypeMeta(type):
    """``isinstance(x.dtype, tg.dtype)``: tensorgan's dtypes are NumPy dtypes (and the
    ``tg.bfloat16`` placeholder), so the test is on those."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, np.dtype) or obj is bfloat16

    def __subclasscheck__(cls, sub: type) -> bool:
        return isinstance(sub, type) and (issubclass(sub, np.dtype) or sub is type(bfloat16))

    def __repr__(cls) -> str:
        return "<class 'tensorgan.dtype'>"


class dtype(metaclass=_DTypeMeta):
    """torch's ``torch.dtype`` class, for ``isinstance(v, tg.dtype)`` and annotations.  A
    tensorgan dtype is a NumPy dtype (``tg.float32 is np.dtype('float32')``); calling
    ``tg.dtype(x)`` gives the checked NumPy dtype of ``x`` (``'float32'``, ``np.float64``, ...)."""

    def __new__(cls, value: Any) -> np.dtype:  # type: ignore[misc]
        return _check_dtype(value, any_kind=True)


layout = Layout     # torch.layout: the class of tg.strided / tg.sparse_coo


# ---------------------------------------------------------------------------------------------
# Storages
# ---------------------------------------------------------------------------------------------
def _root_array(a: Any) -> Any:
    """The array owning the memory ``a`` views (NumPy / CuPy ``.base`` chain)."""
    while isinstance(getattr(a, "base", None), type(a)):
        a = a.base
    return a


class UntypedStorage:
    """The memory under a tensor, as bytes (torch's ``x.untyped_storage()``): the array that owns
    it, so a tensor and its views report one ``data_ptr()``.  Small: ``data_ptr``, ``size`` /
    ``nbytes`` / ``__len__`` (bytes), ``element_size`` (1), ``device``, ``tolist``."""

    def __init__(self, array: Any, device: Any) -> None:
        self._array, self.device = _root_array(array), device

    def data_ptr(self) -> int:
        return _array_address(self._array)

    def nbytes(self) -> int:
        return int(self._array.nbytes)

    def size(self) -> int:
        return self.nbytes()

    def __len__(self) -> int:
        return self.size()

    def element_size(self) -> int:
        return 1

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def tolist(self) -> list:
        a = self._array if self.device.xp is np else self._array.get()
        return np.ascontiguousarray(a).view(np.uint8).reshape(-1).tolist()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.size()} bytes on {self.device} at {self.data_ptr():#x}>"


class TypedStorage(UntypedStorage):
    """torch's deprecated ``x.storage()``: the same memory counted in elements of the tensor's
    dtype (``size()`` elements, ``element_size()`` bytes each, ``dtype``)."""

    def __init__(self, array: Any, device: Any, dtype: np.dtype) -> None:
        super().__init__(array, device)
        self.dtype = dtype

    def element_size(self) -> int:
        return self.dtype.itemsize

    def size(self) -> int:
        return self.nbytes() // self.dtype.itemsize

    def tolist(self) -> list:
        a = self._array if self.device.xp is np else self._array.get()
        return np.ascontiguousarray(a).reshape(-1).view(np.uint8).view(self.dtype).tolist()


def is_storage(obj: Any) -> bool:
    """Whether ``obj`` is a storage (``x.untyped_storage()`` / ``x.storage()``)."""
    return isinstance(obj, UntypedStorage)


# ---------------------------------------------------------------------------------------------
# Tensor methods
# ---------------------------------------------------------------------------------------------
def _resize_shape(op: str, t: Tensor, shape: tuple) -> Tensor:
    warnings.warn(f"non-inplace {op} is deprecated", UserWarning, stacklevel=3)
    n = int(np.prod(shape, dtype=np.int64))
    if n != t.numel():
        raise ShapeError(f"{op}: requested resize to {'x'.join(map(str, shape))} ({n} elements in "
                         f"total), but the given tensor has a size of {'x'.join(map(str, t.shape))} "
                         f"({t.numel()} elements); the non-inplace {op} can only change the shape "
                         f"while keeping the number of elements (as torch's)")
    return t.reshape(shape)


def _row_major(size: Sequence[int]) -> tuple:
    size = tuple(int(n) for n in size)
    return tuple(int(np.prod(size[d + 1:], dtype=np.int64)) for d in range(len(size)))


def _clone_strides(a: Any) -> tuple:
    """The element strides of the copy torch's as_strided_scatter writes: this tensor's own
    strides (and storage offset) when its elements do not overlap, dense or not (a slice keeps
    its gaps), row-major from 0 otherwise (an expanded tensor)."""
    size = tuple(int(n) for n in a.shape)
    own = tuple(int(st) // a.itemsize for st in a.strides)
    row_major = _row_major(size)
    if builtins.any(st < 0 for st in own):
        return row_major
    extent = 1
    for d in sorted((d for d in range(len(size)) if size[d] > 1), key=lambda d: own[d]):
        if own[d] < extent:
            return row_major                # overlapping (a 0 stride, or windows)
        extent = own[d] * (size[d] - 1) + extent
    return own


def _index_positions(size: tuple, stride: tuple, offset: int) -> np.ndarray:
    index = np.full(size, offset, dtype=np.int64)
    for k, (n, s) in enumerate(zip(size, stride)):
        index += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(size) - k - 1))
    return index


class _TensorCompat:
    """Methods installed on :class:`Tensor` (new names only)."""

    is_meta = property(lambda self: False, doc="False: tensorgan has no meta tensors.")
    is_mps = property(lambda self: False, doc="False: tensorgan has no MPS device.")
    is_xpu = property(lambda self: False, doc="False: tensorgan has no XPU device.")
    is_nested = property(lambda self: False, doc="False: tensorgan has no nested tensors.")
    is_quantized = property(lambda self: False, doc="False: tensorgan has no quantized tensors.")
    is_mkldnn = property(lambda self: False, doc="False: tensorgan has no MKL-DNN tensors.")
    output_nr = property(lambda self: 0 if self._ctx is None else self._ctx.__dict__.get("output_nr", 0),
                         doc="Which output of its op this tensor is: a split / unbind / chunk "
                             "piece's index (torch's multi-output op; here one op per piece, "
                             "marked), else 0")

    def is_pinned(self, device: Any = None) -> bool:
        """False: tensorgan has no page-locked (pinned) host memory."""
        return False

    def pin_memory(self, device: Any = None) -> Tensor:
        """torch copies the tensor into page-locked host memory, which needs an accelerator:
        without one (no CUDA), a DeviceError (a RuntimeError) as torch's CPU build raises; with
        one, this tensor itself (tensorgan has no pinned allocator; its host-to-device copies
        are synchronous, so ``x.pin_memory().cuda(non_blocking=True)`` works as written)."""
        if self.device.type != "cpu":
            raise DeviceError(f"pin_memory: cannot pin a tensor on {self.device}, only dense CPU tensors can be pinned")
        from .backend import cuda_status
        if not cuda_status()[0]:
            raise DeviceError("pin_memory: cannot access accelerator device when none is available "
                              "(pinned host memory needs CUDA, as torch's CPU build)")
        return self

    def __dlpack__(self, stream: Any = None, **kwargs: Any) -> Any:
        """The DLPack protocol (``np.from_dlpack(x)``, ``torch.from_dlpack(x)``): a capsule over
        this tensor's memory; refused for a tensor that requires grad, as torch's."""
        if self._requires_grad:
            raise AutogradError("__dlpack__: can't export a tensor that requires grad; use "
                                "tensor.detach()")
        return self.array.__dlpack__(stream=stream, **kwargs) if stream is not None or kwargs \
            else self.array.__dlpack__()

    def __dlpack_device__(self) -> tuple:
        return self.array.__dlpack_device__()

    def untyped_storage(self) -> UntypedStorage:
        """The memory under this tensor as bytes: one ``data_ptr()`` for a tensor and its views."""
        return UntypedStorage(self.array, self.device)

    def storage(self) -> TypedStorage:
        """torch's deprecated typed storage (it warns, as torch's: use untyped_storage())."""
        warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                      "UntypedStorage will be the only storage class. This should only matter to "
                      "you if you are using storages directly.  To access UntypedStorage directly, "
                      "use tensor.untyped_storage() instead of tensor.storage()", UserWarning, stacklevel=2)
        return TypedStorage(self.array, self.device, self.dtype)

    def new_empty_strided(self, size: Sequence[int], stride: Sequence[int], *, dtype: Any = None,
                          device: Any = None, requires_grad: bool = False, layout: Any = None,
                          pin_memory: bool = False) -> Tensor:
        """tg.empty_strided (zeros of ``size`` laid out with ``stride``) in this tensor's dtype
        and device, or the ones given."""
        from .torch_extras import empty_strided
        return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype,
                             device=self.device if device is None else device,
                             requires_grad=requires_grad)

    def as_strided_(self, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Tensor:
        """This tensor re-pointed, in place, at the elements ``as_strided(size, stride,
        storage_offset)`` reads -- its memory's view (refused on a leaf that requires grad, as
        torch's, and where as_strided could only copy: a view of non-contiguous memory)."""
        if self._requires_grad and self._ctx is None:
            raise AutogradError("as_strided_: a leaf tensor that requires grad is being used in an "
                                "in-place operation")
        out = self.detach().as_strided(size, stride, storage_offset)
        xp = self.device.xp
        if out.numel() and not xp.shares_memory(out.array, self.array):
            raise ShapeError("as_strided_: this tensor views non-contiguous memory, where tensorgan's "
                             "as_strided makes a copy, not a view; call as_strided_ on the tensor "
                             "it views")
        self.array = out.array
        return self

    def as_strided_scatter(self, src: Tensor, size: Sequence[int], stride: Sequence[int],
                           storage_offset: int | None = None) -> Tensor:
        """A copy of this tensor with ``src`` (cast to this tensor's dtype) written at the
        positions ``as_strided(size, stride, storage_offset)`` reads, counted as torch counts them:
        in this tensor's storage (its own strides and storage offset, as ``as_strided`` on it: a
        transposed tensor is counted column by column, a slice's gaps and the memory before it
        write nothing) when its elements do not overlap, row-major from 0 otherwise (expand's
        result); a 0 stride is refused as torch's; differentiable in both."""
        src = _tensor_arg("as_strided_scatter", src, "src")
        size, stride = _size_args((size,)), tuple(int(s) for s in stride)
        if len(size) != len(stride):
            raise ShapeError(f"as_strided_scatter: size {size} and stride {stride} have different lengths")
        offset = 0 if storage_offset is None else int(storage_offset)
        if builtins.any(s < 0 for s in stride) or offset < 0:
            raise ShapeError(f"as_strided_scatter: negative strides {stride} or storage_offset {offset}")
        if tuple(src.shape) != size:
            raise ShapeError(f"as_strided_scatter: expected src to have a size equal to the slice "
                             f"of self: src size {list(src.shape)}, slice size {list(size)}")
        if src.dtype != self.dtype:
            src = src.to(self.dtype)            # torch's copy_ into the clone casts
        if builtins.any(s == 0 and n > 1 for n, s in zip(size, stride)):
            raise MemoryOverlapError(
                f"as_strided_scatter: unsupported operation: more than one element of the "
                f"written-to tensor refers to a single memory location (size {size}, stride "
                f"{stride}: a 0 stride repeats positions; as torch, refused)")
        layout = _clone_strides(self.array)
        if layout == _row_major(self.shape) and self.array.flags.c_contiguous is False:
            start, held = 0, self.numel()       # overlapping: a row-major copy from 0
        else:                                   # a copy of the whole storage, read as this tensor
            start, held = self.storage_offset(), int(_root_array(self.array).nbytes) // self.array.itemsize
        index = _index_positions(size, stride, offset).reshape(-1)
        if index.size and int(index.max()) >= held:
            raise ShapeError(f"as_strided_scatter: size {size}, stride {stride} and storage_offset "
                             f"{offset} reach element {int(index.max())}, out of bounds for the "
                             f"clone's storage of {held} elements")
        flat = self.reshape(-1)
        if not index.size:
            return flat.clone().reshape(self.shape)
        # each storage position of the clone -> the element of this tensor held there (-1: a gap)
        owner = np.full(held, -1, dtype=np.int64)
        owner[_index_positions(tuple(self.shape), layout, start).reshape(-1)] = np.arange(self.numel())
        target = owner[index]
        kept = np.nonzero(target >= 0)[0]
        if not kept.size:                       # every position in a gap of the clone
            return flat.clone().reshape(self.shape)
        xp = self.device.xp
        where = Tensor._make(xp.asarray(target[kept]), self.device)
        values = src.reshape(-1)
        if kept.size != index.size:
            values = values[Tensor._make(xp.asarray(kept), self.device)]
        return flat.index_put((where,), values).reshape(self.shape)

    def resize(self, *sizes: Any) -> Tensor:
        """torch's deprecated non-inplace resize (it warns): this tensor reshaped to ``sizes``,
        which must hold as many elements (torch refuses another count too)."""
        return _resize_shape("resize", self, _size_args(sizes))

    def resize_as(self, other: Tensor) -> Tensor:
        """torch's deprecated non-inplace resize_as (it warns): ``resize(other.shape)``."""
        return _resize_shape("resize_as", self, tuple(_tensor_arg("resize_as", other, "other").shape))

    def as_subclass(self, cls: type) -> Tensor:
        """A ``cls`` instance sharing this tensor's memory and staying in its autograd graph
        (torch's alias).  Ops on it return plain Tensors: tensorgan has no ``__torch_function__``
        dispatch, so a class defining its own is refused (its overrides would never run)."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise InputTypeError(f"as_subclass: creating a Tensor subclass from a class that does "
                                 f"not inherit from Tensor is not possible, got {cls!r}")
        if getattr(cls, "__torch_function__", None) is not None:
            raise InputTypeError(f"as_subclass: {cls.__name__} defines __torch_function__, which "
                                 f"tensorgan never calls (its ops return plain Tensors); wrap the "
                                 f"tensor in a class of your own instead")
        alias = self.view_as(self)
        out = object.__new__(cls)
        out.array, out._grad, out._requires_grad = alias.array, None, alias._requires_grad
        out.device, out._ctx, out._hooks = alias.device, alias._ctx, None
        out._version_box = [0]
        _share(self, out)
        return out


def install_methods(cls: type) -> None:
    for name, value in vars(_TensorCompat).items():
        if (not name.startswith("__") or name.startswith("__dlpack")) and not hasattr(cls, name):
            setattr(cls, name, value)


install_methods(Tensor)


# ---------------------------------------------------------------------------------------------
# The *_copy variants: the op's result as a new contiguous tensor (differentiable)
# ---------------------------------------------------------------------------------------------
def _fresh(t: Tensor) -> Tensor:
    from .memory_formats import contiguous_format
    return t.clone(memory_format=contiguous_format)


def view_copy(input: Tensor, size: Any) -> Tensor:
    """torch.view_copy: ``input.view(size)`` (a shape, or a dtype) as a new tensor."""
    return _fresh(_tensor_arg("view_copy", input).view(size))


def permute_copy(input: Tensor, dims: Sequence[int]) -> Tensor:
    return _fresh(_tensor_arg("permute_copy", input).permute(*dims))


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return _fresh(_tensor_arg("transpose_copy", input).transpose(dim0, dim1))


def t_copy(input: Tensor) -> Tensor:
    return _fresh(_tensor_arg("t_copy", input).t())


def expand_copy(input: Tensor, size: Sequence[int], *, implicit: bool = False) -> Tensor:
    return _fresh(_tensor_arg("expand_copy", input).expand(*size))


def squeeze_copy(input: Tensor, dim: Any = None) -> Tensor:
    return _fresh(_tensor_arg("squeeze_copy", input).squeeze(dim))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    return _fresh(_tensor_arg("unsqueeze_copy", input).unsqueeze(dim))


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:
    return _fresh(_tensor_arg("select_copy", input).select(dim, index))


def slice_copy(input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
               step: int = 1) -> Tensor:
    """torch.slice_copy: ``input[..., start:end:step, ...]`` along ``dim`` as a new tensor."""
    x = _tensor_arg("slice_copy", input)
    if not _is_int(step) or step < 1:
        raise ConfigError(f"slice_copy: step must be an int >= 1, got {step!r}")
    d = x._dim(dim, "slice_copy")
    return _fresh(x[(slice(None),) * d + (slice(start, end, step),)])


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    return _fresh(_tensor_arg("diagonal_copy", input).diagonal(offset, dim1, dim2))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    return _fresh(_tensor_arg("unfold_copy", input).unfold(dimension, size, step))


def split_copy(tensor: Tensor, split_size: Any, dim: int = 0) -> tuple:
    return tuple(_fresh(p) for p in _tensor_arg("split_copy", tensor, "tensor").split(split_size, dim))


def split_with_sizes_copy(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    return tuple(_fresh(p) for p in _tensor_arg("split_with_sizes_copy", input).split_with_sizes(split_sizes, dim))


def unbind_copy(input: Tensor, dim: int = 0) -> tuple:
    return tuple(_fresh(p) for p in _tensor_arg("unbind_copy", input).unbind(dim))


def detach_copy(input: Tensor) -> Tensor:
    """A copy of ``input`` outside the graph (torch.detach_copy)."""
    return _fresh(_tensor_arg("detach_copy", input).detach())


def alias_copy(input: Tensor) -> Tensor:
    """A copy of ``input`` in its graph (torch.alias_copy)."""
    return _fresh(_tensor_arg("alias_copy", input))


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    return _fresh(_tensor_arg("narrow_copy", input).narrow(dim, start, length))


def as_strided_copy(input: Tensor, size: Sequence[int], stride: Sequence[int],
                    storage_offset: int | None = None) -> Tensor:
    return _fresh(_tensor_arg("as_strided_copy", input).as_strided(size, stride, storage_offset))


def as_strided_scatter(input: Tensor, src: Tensor, size: Sequence[int], stride: Sequence[int],
                       storage_offset: int | None = None) -> Tensor:
    """torch.as_strided_scatter: see :meth:`Tensor.as_strided_scatter`."""
    return _tensor_arg("as_strided_scatter", input).as_strided_scatter(src, size, stride, storage_offset)


# ---------------------------------------------------------------------------------------------
# Factories and queries
# ---------------------------------------------------------------------------------------------
def empty_permuted(size: Sequence[int], physical_layout: Sequence[int], *, dtype: Any = None,
                   layout: Any = None, device: Any = None, requires_grad: bool = False,
                   pin_memory: bool = False) -> Tensor:
    """torch.empty_permuted: a tensor of ``size`` whose memory holds its dims in the order
    ``physical_layout`` (``(0, 2, 3, 1)`` is channels-last for NCHW) -- zeros here, strides as
    torch's."""
    size, order = _size_args((size,)), tuple(int(p) for p in physical_layout)
    if len(order) != len(size):
        raise ShapeError(f"empty_permuted: physical_layout {order} must have one entry per dim of "
                         f"size {size}")
    if sorted(order) != list(builtins.range(len(size))):
        raise ShapeError(f"empty_permuted: physical_layout {order} is not a permutation of the dims "
                         f"(duplicate or out-of-range dim)")
    dev = get_device(device)
    dt = _check_dtype(get_default_dtype() if dtype is None else dtype, any_kind=True)
    _check_grad_dtype(requires_grad, dt)
    inverse = tuple(int(i) for i in np.argsort(order))
    array = dev.xp.zeros(tuple(size[p] for p in order), dtype=dt).transpose(inverse)
    return Tensor._make(array, dev, requires_grad)


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """torch.nonzero_static: ``nonzero(input)`` with exactly ``size`` rows -- cut to the first
    ``size``, or padded with rows of ``fill_value``; int64 of shape (size, input.ndim)."""
    x = _tensor_arg("nonzero_static", input)
    if not _is_int(size) or size < 0:
        raise ConfigError(f"nonzero_static: 'size' must be a non-negative integer, got {size!r}")
    if not _is_int(fill_value):
        raise InputTypeError(f"nonzero_static: fill_value must be an int, got {fill_value!r}")
    xp = x.device.xp
    found = xp.stack(xp.nonzero(x.array), axis=1).astype(np.int64) if x.ndim else \
        xp.zeros((int(bool(x.array)), 0), dtype=np.int64)
    out = xp.full((int(size), x.ndim), int(fill_value), dtype=np.int64)
    n = builtins.min(int(size), int(found.shape[0]))
    out[:n] = found[:n]
    return Tensor._make(out, x.device)


def set_default_tensor_type(t: Any) -> None:
    """torch's deprecated set_default_tensor_type (it warns, as torch's): ``tg.FloatTensor`` /
    ``tg.DoubleTensor`` (or their names, ``'torch.DoubleTensor'``) set the default float dtype;
    ``tg.cuda.FloatTensor`` also makes CUDA the default device.  Other dtypes are refused."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    from . import factory
    from .backend import set_default_device
    from .tensor import set_default_dtype
    cls, cuda = t, False
    if isinstance(t, str):
        module, _, name = t.rpartition(".")
        cuda = module.endswith("cuda")
        cls = getattr(factory, name, None) if module.split(".")[0] in ("torch", "tensorgan") else None
        if cls is None or not isinstance(cls, type) or not issubclass(cls, factory.FloatTensor):
            raise InputTypeError(f"set_default_tensor_type: invalid type string {t!r}")
    elif isinstance(t, type) and issubclass(t, factory.FloatTensor):
        cuda = isinstance(t, factory._CudaLegacyTensorType)
    else:
        raise InputTypeError(f"set_default_tensor_type: expected a tensor type (tg.FloatTensor) or "
                             f"its name, got {t!r}")
    if cls.dtype.kind != "f":
        raise DTypeError(f"set_default_tensor_type: only floating-point types are supported as the "
                         f"default type, got {cls.__name__} ({cls.dtype})")
    if cls.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):     # torch takes HalfTensor
        raise DTypeError(f"set_default_tensor_type: tensorgan's default dtype is float32 or float64 "
                         f"(FloatTensor / DoubleTensor), got {cls.__name__} ({cls.dtype}); create "
                         f"half tensors explicitly (dtype=tg.float16, .half())")
    if cuda:
        set_default_device("cuda")      # first: a DeviceError here leaves the dtype as it was
    set_default_dtype(cls.dtype)


def get_deterministic_debug_mode() -> int:
    """0 (default), 1 (warn) or 2 (error): torch's reading of use_deterministic_algorithms."""
    from .settings import are_deterministic_algorithms_enabled, is_deterministic_algorithms_warn_only_enabled
    if not are_deterministic_algorithms_enabled():
        return 0
    return 1 if is_deterministic_algorithms_warn_only_enabled() else 2


def set_deterministic_debug_mode(debug_mode: Any) -> None:
    """torch's other interface to use_deterministic_algorithms: "default"/0 off, "warn"/1
    warn-only, "error"/2 on (tensorgan's kernels are deterministic either way)."""
    from .settings import use_deterministic_algorithms
    if isinstance(debug_mode, bool) or not isinstance(debug_mode, (int, str)):
        raise InputTypeError(f"set_deterministic_debug_mode: debug_mode must be str or int, but got "
                             f"{type(debug_mode)}")
    if isinstance(debug_mode, str):
        names = {"default": 0, "warn": 1, "error": 2}
        if debug_mode not in names:
            raise ConfigError(f"set_deterministic_debug_mode: invalid value of debug_mode, expected "
                              f"one of `default`, `warn`, `error`, but got {debug_mode}")
        debug_mode = names[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise ConfigError(f"set_deterministic_debug_mode: invalid value of debug_mode, expected 0, "
                          f"1, or 2, but got {debug_mode}")
    if debug_mode == 0:
        use_deterministic_algorithms(False)
    else:
        use_deterministic_algorithms(True, warn_only=debug_mode == 1)


def init_num_threads() -> None:
    """torch.init_num_threads: nothing to do (tensorgan's thread count is process-wide, see
    tg.set_num_threads)."""
    return None


# ---------------------------------------------------------------------------------------------
# DLPack
# ---------------------------------------------------------------------------------------------
def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule over ``tensor``'s memory (torch.utils.dlpack.to_dlpack), for any
    DLPack consumer (``np.from_dlpack`` needs the object itself: pass the tensor there)."""
    t = _tensor_arg("to_dlpack", tensor, "tensor")
    if t._requires_grad:
        raise AutogradError("to_dlpack: can't export a tensor that requires grad; use tensor.detach()")
    return t.array.__dlpack__()


class _Capsule:
    """A bare DLPack capsule dressed as a producer (``__dlpack__`` / ``__dlpack_device__``) for
    NumPy's / CuPy's from_dlpack, which take producers only."""

    def __init__(self, capsule: Any) -> None:
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        try:
            pointer = get(capsule, b"dltensor")
        except ValueError:
            raise InputTypeError("from_dlpack received an invalid capsule (DLTensor capsules can be "
                                 "consumed only once: this one may have made a tensor already)") from None
        # DLManagedTensor starts with a DLTensor: void *data; DLDevice {int32 type; int32 id}
        self.device = (ctypes.c_int32.from_address(pointer + 8).value,
                       ctypes.c_int32.from_address(pointer + 12).value)
        self.capsule = capsule

    def __dlpack__(self, stream: Any = None, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple:
        return self.device


def _import_dlpack(xp: Any, source: Any) -> Any:
    try:
        return xp.from_dlpack(source)
    except (RuntimeError, TypeError, ValueError) as exc:    # NumPy: "Unsupported dtype in
        if "dtype" not in str(exc):                          # DLTensor." (bfloat16, complex32)
            raise
        raise DTypeError(f"from_dlpack: the tensor's dtype is not supported ({exc}); tensorgan "
                         f"tensors are float32, float64, float16, int64/int32/int16/int8/uint8 "
                         f"or bool: convert it first (.float())") from None


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing the memory of a DLPack producer (a NumPy / CuPy array, a torch tensor,
    a tensorgan tensor) or of a capsule from ``to_dlpack`` -- on the CPU or, for device memory,
    CUDA (torch.from_dlpack)."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor.detach()
    source = ext_tensor
    if type(ext_tensor).__name__ == "PyCapsule":
        source = _Capsule(ext_tensor)
    elif not hasattr(ext_tensor, "__dlpack__") or not hasattr(ext_tensor, "__dlpack_device__"):
        raise InputTypeError(f"from_dlpack: expected an object with __dlpack__ / __dlpack_device__ "
                             f"or a DLPack capsule, got {type(ext_tensor).__name__}")
    kind = int(source.__dlpack_device__()[0])
    if kind in (1, 3):                          # kDLCPU, kDLCUDAHost
        array, device = _import_dlpack(np, source), get_device("cpu")
    elif kind in (2, 13):                       # kDLCUDA, kDLCUDAManaged
        device = get_device("cuda")
        array = _import_dlpack(device.xp, source)
    else:
        raise DeviceError(f"from_dlpack: unsupported DLPack device type {kind} (tensorgan has CPU "
                          f"and CUDA tensors)")
    _check_dtype(array.dtype, any_kind=True)
    if isinstance(ext_tensor, np.ndarray) and not array.flags.writeable:   # as torch.from_numpy:
        from .tensor import writable_numpy                                 # its memory is written
        whole = writable_numpy(ext_tensor, warn=False)
        if whole.flags.writeable and whole.shape == array.shape and whole.strides == array.strides:
            array = whole
    return Tensor._make(array, device)


# ---------------------------------------------------------------------------------------------
# Control flow (eager)
# ---------------------------------------------------------------------------------------------
def _predicate(op: str, pred: Any) -> bool:
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise ShapeError(f"{op}: expected pred to be bool or single-element tensor, but got a "
                             f"tensor of shape {tuple(pred.shape)}")
        return bool(pred.item())
    if isinstance(pred, (bool, int, float, np.bool_, np.integer, np.floating)):
        return bool(pred)
    raise InputTypeError(f"{op}: expected pred to be bool or a single-element tensor, got "
                         f"{type(pred).__name__}")


def cond(pred: Any, true_fn: Callable, false_fn: Callable, operands: tuple | list = ()) -> Any:
    """torch.cond, eagerly: ``true_fn(*operands)`` if ``pred`` (a bool or one-element tensor)
    holds, else ``false_fn(*operands)``; differentiable through the branch taken."""
    if not isinstance(operands, (tuple, list)):
        raise InputTypeError(f"cond: operands must be a tuple or list, got {type(operands).__name__}")
    if not (callable(true_fn) and callable(false_fn)):
        raise InputTypeError("cond: true_fn and false_fn must be callable")
    return (true_fn if _predicate("cond", pred) else false_fn)(*operands)


def while_loop(cond_fn: Callable, body_fn: Callable, carried_inputs: tuple | list) -> Any:
    """torch.while_loop, eagerly: ``carried = body_fn(*carried)`` while ``cond_fn(*carried)``
    (a bool or one-element tensor) holds; the last carried values (a tuple, or the single value
    the body returns)."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise InputTypeError(f"while_loop: carried_inputs must be a tuple or list, got "
                             f"{type(carried_inputs).__name__}")
    carried: Any = tuple(carried_inputs)
    result: Any = carried
    while _predicate("while_loop", cond_fn(*carried)):
        result = body_fn(*carried)
        carried = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if len(carried) != len(carried_inputs):
            raise ShapeError(f"while_loop: body_fn returned {len(carried)} values for "
                             f"{len(carried_inputs)} carried inputs")
        result = tuple(result) if isinstance(result, list) else result
    return result


# ---------------------------------------------------------------------------------------------
# Function forms
# ---------------------------------------------------------------------------------------------
def embedding_bag(weight: Tensor, indices: Tensor, offsets: Tensor, scale_grad_by_freq: bool = False,
                  mode: int = 0, sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> tuple:
    """torch.embedding_bag (the aten form; F.embedding_bag is the usual one): ``mode`` 0 sum,
    1 mean, 2 max; returns ``(output, offset2bag, bag_size, max_indices)``.  Only ``output``
    is meant for use; the other three are torch's kernels' bookkeeping, given as torch's CPU
    kernels give them: offset2bag each index's bag (empty for sum without padding_idx),
    bag_size each bag's count without padding_idx entries (zeros for sum), max_indices max
    mode's argmax rows (the bag sizes for mean, zeros for sum)."""
    if mode not in (0, 1, 2):
        raise ConfigError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got {mode!r}")
    w = _tensor_arg("embedding_bag", weight, "weight")
    idx = _tensor_arg("embedding_bag", indices, "indices")
    off = _tensor_arg("embedding_bag", offsets, "offsets")
    out = F.embedding_bag(idx, w, off, scale_grad_by_freq=scale_grad_by_freq,
                          mode=("sum", "mean", "max")[mode], sparse=sparse,
                          per_sample_weights=per_sample_weights,
                          include_last_offset=include_last_offset, padding_idx=padding_idx)
    flat, starts = idx.numpy().reshape(-1).astype(np.int64), off.numpy().reshape(-1).astype(np.int64)
    if include_last_offset:                 # B + 1 offsets: bag b is [offsets[b], offsets[b + 1])
        starts, ends = starts[:-1], starts[1:]
    else:
        ends = np.append(starts[1:], flat.size)
    bag_of = np.zeros(flat.size, dtype=np.int64)
    for b, (s, e) in enumerate(zip(starts, ends)):
        bag_of[s:e] = b
    counted = flat if padding_idx is None else np.where(flat == padding_idx % w.shape[0], -1, flat)
    sizes = np.array([int((counted[s:e] >= 0).sum()) for s, e in zip(starts, ends)], dtype=np.int64)
    if mode == 0:                   # torch's sum kernel keeps no bookkeeping
        bag_of = bag_of if padding_idx is not None else bag_of[:0]
        sizes = maxes = np.zeros(len(starts), dtype=np.int64)
    elif mode == 2:
        rows = w.numpy()
        maxes = np.zeros((len(starts), w.shape[1]), dtype=np.int64)
        for b, (s, e) in enumerate(zip(starts, ends)):
            kept = flat[s:e][counted[s:e] >= 0]            # padding_idx entries never the max
            if kept.size:
                maxes[b] = kept[np.argmax(rows[kept], axis=0)]
    elif mode == 1:
        maxes = sizes.copy()

    def make(a):
        return Tensor._make(w.device.xp.asarray(a), w.device)
    return out, make(bag_of), make(sizes), make(maxes)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Sequence[int],
                padding: Sequence[int], dilation: Sequence[int], transposed: bool,
                output_padding: Sequence[int], groups: int) -> Tensor:
    """torch.convolution: the 1-, 2- or 3-d convolution (or, ``transposed``, transposed
    convolution) the weight's rank says, with explicit per-dim lists."""
    x = _tensor_arg("convolution", input)
    w = _tensor_arg("convolution", weight, "weight")
    n = w.ndim - 2
    if n not in (1, 2, 3):
        raise ShapeError(f"convolution: weight must have 3, 4 or 5 dims, got shape {tuple(w.shape)}")

    def dims(name: str, v: Any) -> tuple:
        v = (v,) * n if _is_int(v) else tuple(int(k) for k in v)
        if len(v) == 1 and n > 1:
            v = v * n
        if len(v) != n:
            raise ShapeError(f"convolution: {name} {v} must have {n} entries for a {n}-d weight")
        return v
    s, p, d = dims("stride", stride), dims("padding", padding), dims("dilation", dilation)
    if transposed:
        op = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[n - 1]
        return op(x, w, bias, s, p, dims("output_padding", output_padding), groups, d)
    if builtins.any(output_padding or ()):
        raise ConfigError("convolution: output_padding is only for transposed convolution")
    op = (F.conv1d, F.conv2d, F.conv3d)[n - 1]
    return op(x, w, bias, s, p, d, groups)


__all__ = ["dtype", "layout", "is_storage", "view_copy", "permute_copy", "transpose_copy", "t_copy",
           "expand_copy", "squeeze_copy", "unsqueeze_copy", "select_copy", "slice_copy",
           "diagonal_copy", "unfold_copy", "split_copy", "split_with_sizes_copy", "unbind_copy",
           "detach_copy", "alias_copy", "narrow_copy", "as_strided_copy", "as_strided_scatter",
           "empty_permuted", "nonzero_static", "set_default_tensor_type",
           "get_deterministic_debug_mode", "set_deterministic_debug_mode", "init_num_threads",
           "to_dlpack", "from_dlpack", "cond", "while_loop", "embedding_bag", "convolution"]
