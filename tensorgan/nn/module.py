"""Module and Parameter: the containers that hold a network's state.

A Module registers, by plain attribute assignment, three kinds of members:

* :class:`Parameter` -- a leaf Tensor the optimizer updates (``requires_grad=True``);
* buffers -- state that is saved but not trained (BatchNorm's running statistics), registered with
  :meth:`Module.register_buffer`; a buffer is a Tensor (moved by ``.to(device)``) or a host NumPy
  array for integer counters such as ``num_batches_tracked`` (an :class:`IntBuffer`, which also
  takes the in-place Tensor methods EMA code calls on buffers);
* sub-modules.

Members also live in the instance ``__dict__``, so ``self.weight`` is an ordinary attribute lookup
(no ``__getattr__`` on the hot path, unlike PyTorch; ``Module.__getattr__`` exists, as torch's, for
code that calls it by hand, and for misses).
"""
from __future__ import annotations

from collections import OrderedDict
import copy
import warnings
import weakref
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from ..backend import Device, as_host_array, get_device, move_array, names_a_device
from ..errors import (AutogradError, CheckpointError, ConfigError, ConfigTypeError, NameKeyError, DeviceError, DTypeError, InputTypeError,
                      NotOverriddenError, ShapeError, StateDictMismatchError, UninitializedParameterError)
from ..tensor import RemovableHandle, Tensor, _caller_level, _check_dtype, get_default_dtype
from ._backward_hooks import BackwardHook


class IntBuffer(np.ndarray):
    """A host integer counter buffer (BatchNorm's ``num_batches_tracked``; torch's is an int64
    tensor, tensorgan's tensors are floating point): a NumPy array that also answers the Tensor
    methods code looping over ``buffers()`` calls -- StyleGAN's EMA does
    ``for b_ema, b in zip(G_ema.buffers(), G.buffers()): b_ema.copy_(b)``."""

    requires_grad = False   # as torch's int64 buffer (``state_dict(keep_vars=True)`` loops read it)
    grad = None

    @classmethod
    def zeros(cls, shape: tuple = (), dtype: Any = np.int64) -> "IntBuffer":
        return np.zeros(shape, dtype=dtype).view(cls)

    def copy_(self, src: Any, non_blocking: bool = False) -> "IntBuffer":
        """Write ``src`` (a Tensor, an array or a number; broadcast, cast as torch's copy_)."""
        value = src.numpy() if isinstance(src, Tensor) else np.asarray(src)
        try:
            np.copyto(self, np.broadcast_to(value, self.shape), casting="unsafe")
        except ValueError:
            raise ShapeError(f"copy_: source of shape {value.shape} does not broadcast to the "
                             f"buffer's {self.shape}") from None
        return self

    def fill_(self, value: Any) -> "IntBuffer":
        return self.copy_(value)

    def zero_(self) -> "IntBuffer":
        return self.copy_(0)

    def add_(self, other: Any, alpha: Any = 1) -> "IntBuffer":
        return self.copy_(self + alpha * (other.numpy() if isinstance(other, Tensor) else np.asarray(other)))

    def detach(self) -> "IntBuffer":
        return self

    def clone(self) -> "IntBuffer":
        return self.copy()

    def numpy(self) -> np.ndarray:
        """The counter as a plain NumPy array sharing its memory (as torch's ``.numpy()``)."""
        return self.view(np.ndarray)

    @property
    def data(self) -> "IntBuffer":
        """Itself, as torch's ``.data`` (the same memory outside autograd): EMA loops such as
        ``for b_ema, b in zip(ema.buffers(), model.buffers()): b_ema.data.copy_(b.data)`` reach
        the counter this way -- NumPy's own ``.data`` (a raw memoryview) has no ``copy_``."""
        return self

    def cpu(self) -> "IntBuffer":
        return self

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def float(self) -> Tensor:
        """A float32 Tensor copy of the counter (``bn.num_batches_tracked.float()``)."""
        return _state_value(self).float()

    def double(self) -> Tensor:
        return _state_value(self).double()

    def long(self) -> Tensor:
        """An int64 Tensor over the counter's memory (torch's ``.long()`` of an int64 tensor is
        itself)."""
        return _state_value(self)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """The counter as a Tensor moved / cast as ``Tensor.to`` does."""
        return _state_value(self).to(*args, **kwargs)


class Parameter(Tensor):
    """A Tensor that is a module's trainable weight: always a leaf, ``requires_grad=True``."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None, device: Any = None):
        if isinstance(data, Tensor):
            device = data.device if device is None else device
            data = data.array if get_device(device) is data.device else data.numpy()
        self._init_data(data, requires_grad, dtype, device)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> "Parameter":
        """``copy.deepcopy``: a new Parameter with a copy of the values and the same
        ``requires_grad`` -- and no ``.grad``, as torch's (``backup = copy.deepcopy(D)`` in an
        unrolled GAN, ``ema = copy.deepcopy(G)``: the copy starts without gradients, and one kept
        with a graph by ``backward(create_graph=True)`` does not drag that graph along).  Nor
        does it take the user's own attributes (``p.lr_mul = 0.01``): torch's Parameter deepcopy
        makes a fresh Parameter from the values (pickle keeps them, a plain Tensor's deepcopy too)."""
        if id(self) in memo:
            return memo[id(self)]
        cls, args, (_, slots) = object.__reduce_ex__(self, 4)[:3]
        return copy._reconstruct(self, memo, cls, args, (None, dict(slots, _grad=None)))


_ARRAY = Tensor.__dict__["array"]          # the slot itself, under the mixin's refusing property


def _refuse(what: str) -> UninitializedParameterError:
    return UninitializedParameterError(
        f"cannot use {what} of an uninitialized parameter or buffer (a lazy module's): call the "
        f"module's forward with a batch first, which gives it its shape")


class UninitializedTensorMixin:
    """No data yet: reading the values or the shape is refused; ``materialize(shape)`` gives it
    an (uninitialized) array of that shape and makes it a ``cls_to_become``."""
    __slots__ = ()
    cls_to_become: type = Tensor

    def __new__(cls, requires_grad: bool = False, device: Any = None, dtype: Any = None, **_: Any):
        t = object.__new__(cls)
        dev = get_device(device)
        _ARRAY.__set__(t, dev.xp.empty((0,), dtype=_check_dtype(get_default_dtype() if dtype is None else dtype)))
        t._grad, t._requires_grad, t.device, t._ctx = None, bool(requires_grad), dev, None
        t._version_box, t._hooks = [0], None
        return t

    def __init__(self, *args: Any, **kwargs: Any) -> None:     # all done in __new__
        pass

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """An array of ``shape`` (values unset: the module's init fills them), on ``device`` /
        in ``dtype`` (the ones given at construction by default); the class becomes
        ``cls_to_become`` (Parameter / Tensor), the object stays the same."""
        dev = self.device if device is None else get_device(device)
        dt = self.dtype if dtype is None else _check_dtype(dtype)
        _ARRAY.__set__(self, dev.xp.zeros(tuple(int(n) for n in shape), dtype=dt))
        self.device = dev
        self.__class__ = self.cls_to_become

    def __deepcopy__(self, memo: dict) -> "UninitializedTensorMixin":
        """A new uninitialized tensor of the same kind, device and dtype (torch's)."""
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]

    def _retarget(self, device: Device, dtype: Any) -> None:
        """Module.to on a lazy tensor: the device / dtype it will materialize with."""
        _ARRAY.__set__(self, device.xp.empty((0,), dtype=dtype))
        self.device = device

    @property
    def array(self) -> Any:
        raise _refuse("the values")

    @property
    def shape(self) -> tuple:
        raise _refuse("the shape")

    @property
    def dtype(self) -> Any:
        return _ARRAY.__get__(self).dtype

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """torch's ``nn.UninitializedParameter(requires_grad=True, device=None, dtype=None)``."""
    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None):
        return super().__new__(cls, requires_grad, device, dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """torch's ``nn.UninitializedBuffer(requires_grad=False, device=None, dtype=None,
    persistent=True)`` (``persistent`` is accepted for torch's signature; register the buffer
    with ``register_buffer(..., persistent=)`` to choose)."""
    __slots__ = ()
    cls_to_become = Tensor


def is_lazy(t: Any) -> bool:
    """Whether ``t`` is an UninitializedParameter / UninitializedBuffer."""
    return isinstance(t, UninitializedTensorMixin)




class Buffer(Tensor):
    """torch 2.13's buffer marker: ``self.x = nn.Buffer(t, persistent=True)`` in a Module
    registers ``t`` (detached, the same memory) as a buffer, as ``register_buffer`` does."""
    __slots__ = ("persistent",)

    def __init__(self, data: Any = None, *, persistent: bool = True):
        if data is None:
            data = np.zeros((0,), dtype=get_default_dtype())
        if isinstance(data, Tensor):
            self._init_data(data.array, data.requires_grad, None, data.device)
        else:
            self._init_data(data, False, None, None)
        self.persistent = bool(persistent)

    def _plain(self) -> Tensor:
        """The registered tensor: a plain Tensor sharing this one's memory."""
        return Tensor._make(self.array, self.device, self.requires_grad)


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` did not match (torch's ``_IncompatibleKeys``: its repr says
    ``<All keys matched successfully>`` when both lists are empty)."""
    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")

    __str__ = __repr__


_IncompatibleKeys = IncompatibleKeys     # torch's name (torch.nn.modules.module._IncompatibleKeys)
_EXTRA_STATE_KEY_SUFFIX = "_extra_state"
_TENSOR_TYPE_NAMES = {"torch.FloatTensor": "float32", "torch.DoubleTensor": "float64"}
# Every hook registry a Module holds (torch's attribute names), each an OrderedDict keyed by the
# RemovableHandle's id; the *_with_kwargs / *_always_called ones hold flags for forward hooks.
_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_backward_hooks",
               "_backward_pre_hooks", "_state_dict_pre_hooks", "_state_dict_hooks",
               "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks")

# torch.nn.modules.module's global hooks: they run for every module's call, before its own.
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict = OrderedDict()
_global_forward_hooks_always_called: OrderedDict = OrderedDict()
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()


def _global_hooks_set() -> bool:
    return bool(_global_forward_pre_hooks or _global_forward_hooks or _global_backward_hooks
                or _global_backward_pre_hooks)


def _check_name(where: str, kind: str, name: Any) -> None:
    """torch's refusals of a name for a parameter / buffer / submodule: TypeError for one that is
    not a string, KeyError for '' or one with a '.' (which state_dict keys split on)."""
    if not isinstance(name, str):
        raise ConfigTypeError(f"{where}: {kind} name should be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise NameKeyError(f"{where}: {kind} name must be a non-empty string without '.', got {name!r}")


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, args)`` before every module's forward (torch's global form of
    :meth:`Module.register_forward_pre_hook`); a value it returns replaces the inputs."""
    return Module._add_hook(_global_forward_pre_hooks, hook, "register_module_forward_pre_hook")


def register_module_forward_hook(hook: Callable[..., Any], *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """``hook(module, args, output)`` after every module's forward, before the module's own
    forward hooks (torch's); ``with_kwargs`` / ``always_call`` as in
    :meth:`Module.register_forward_hook`."""
    flags = [(_global_forward_hooks_with_kwargs, with_kwargs),
             (_global_forward_hooks_always_called, always_call)]
    return Module._add_hook(_global_forward_hooks, hook, "register_module_forward_hook", False, flags)


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, grad_output)`` for every module, as
    :meth:`Module.register_full_backward_pre_hook`, before the module's own."""
    return Module._add_hook(_global_backward_pre_hooks, hook, "register_module_full_backward_pre_hook")


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` for every module, as
    :meth:`Module.register_full_backward_hook`, before the module's own."""
    return Module._add_hook(_global_backward_hooks, hook, "register_module_full_backward_hook")


def register_module_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Deprecated in torch; here a full backward hook, as :meth:`Module.register_backward_hook`."""
    warnings.warn("register_module_backward_hook is deprecated (as in torch): use "
                  "register_module_full_backward_hook; tensorgan runs this hook as a full "
                  "backward hook", FutureWarning, stacklevel=2)
    return register_module_full_backward_hook(hook)


class _LegacyStateDictHook:
    """A hook of ``Module._register_state_dict_hook``: unlike the public post-hooks, what it
    returns (a dict) replaces the state dict."""

    def __init__(self, hook: Callable[..., Any]) -> None:
        self.hook = hook

    def __call__(self, *args: Any) -> Any:
        return self.hook(*args)


def _resync(owner: "Module") -> None:
    """A Sequential's forward tuple rebuilt after its ``_modules`` changed behind its back."""
    if "_layers" in owner.__dict__ and hasattr(owner, "_sync"):
        owner._sync()


class _Registry(OrderedDict):
    """A Module's ``_parameters`` / ``_buffers`` / ``_modules``. tensorgan keeps every entry as a
    plain instance attribute too (an attribute read then needs no ``__getattr__``), so a write or
    delete made straight on the dict -- torch code's ``del m._parameters["weight"]`` (EqualLR,
    weight-norm and spectral-norm re-parametrizations), ``m._modules[name] = new_layer`` (model
    surgery), ``m._buffers["x"] = t`` -- is mirrored onto that attribute (and a Sequential's
    forward list), as torch's lookup through the dicts sees it. Module's own methods use the
    plain OrderedDict operations, so registering costs what it did.

    ``copy.copy(module)`` shares the registries, as torch's shallow copy does: the copy is then
    one of ``_copies`` (weak references), and every owner's attributes follow a write by any
    of them (``m2.weight = p``: ``m.weight`` is ``p`` too, as in torch)."""

    _copies: tuple = ()

    def __init__(self, owner: "Module", kind: str, items: Any = ()) -> None:
        OrderedDict.__init__(self)
        self._owner, self._kind = weakref.ref(owner), kind
        for key, value in OrderedDict(items).items():     # as they were: no mirroring
            OrderedDict.__setitem__(self, key, value)

    def __reduce__(self) -> tuple:          # copies and pickles are plain; Module.__setstate__
        return (OrderedDict, (list(self.items()),))     # re-wraps them for the new owner

    def _owners(self) -> list:
        """The live modules whose registry this is (more than one after ``copy.copy``)."""
        refs = (self._owner,) + tuple(self._copies)
        return [m for m in (r() for r in refs) if m is not None]

    def _mirror(self, key: Any, value: Any, deleted: bool) -> None:
        if not isinstance(key, str):
            return
        if self._copies:
            for owner in self._owners():
                self._mirror_one(owner, key, value, deleted)
            return
        owner = self._owner()
        if owner is not None:
            self._mirror_one(owner, key, value, deleted)

    def _mirror_one(self, owner: "Module", key: str, value: Any, deleted: bool) -> None:
        if deleted:
            owner.__dict__.pop(key, None)
            if self._kind == "buffers":
                owner.__dict__.get("_buffer_names", set()).discard(key)
                owner.__dict__.get("_non_persistent", set()).discard(key)
        else:
            if self._kind == "buffers":
                owner.__dict__.setdefault("_buffer_names", set()).add(key)
            object.__setattr__(owner, key, value)
        if self._kind == "modules":
            _resync(owner)

    def __setitem__(self, key: Any, value: Any) -> None:
        OrderedDict.__setitem__(self, key, value)
        self._mirror(key, value, False)

    def __delitem__(self, key: Any) -> None:
        OrderedDict.__delitem__(self, key)
        self._mirror(key, None, True)

    _missing = object()

    def pop(self, key: Any, default: Any = _missing) -> Any:
        if key in self:
            value = OrderedDict.__getitem__(self, key)
            del self[key]
            return value
        if default is _Registry._missing:
            raise KeyError(key)
        return default

    def popitem(self, last: bool = True) -> tuple:
        if not self:
            raise KeyError("dictionary is empty")
        key = next(reversed(self)) if last else next(iter(self))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self):
            del self[key]

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return OrderedDict.__getitem__(self, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in OrderedDict(*args, **kwargs).items():
            self[key] = value


_REGISTRIES = (("_parameters", "parameters"), ("_buffers", "buffers"), ("_modules", "modules"))


class Module:
    """Base class of every layer and model; subclasses implement ``forward``."""

    training: bool

    def __init__(self) -> None:
        for name, kind in _REGISTRIES:
            object.__setattr__(self, name, _Registry(self, kind))
        object.__setattr__(self, "training", True)
        for name in _HOOK_DICTS:
            object.__setattr__(self, name, OrderedDict())

    def __setstate__(self, state: dict) -> None:
        """Unpickling / ``copy.deepcopy``: the registries come back as plain dicts (see
        ``_Registry.__reduce__``) and are wrapped again for this module."""
        self.__dict__.update(state)
        for name, kind in _REGISTRIES:
            registry = self.__dict__.get(name)
            if registry is not None and not isinstance(registry, _Registry):
                object.__setattr__(self, name, _Registry(self, kind, registry))
            elif isinstance(registry, _Registry) and registry._owner() is not self:
                # copy.copy: the registry is shared with the original, as torch's (see _Registry)
                registry._copies = [r for r in registry._copies if r() is not None] + [
                    weakref.ref(self)]

    # -- registration ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            # torch: a plain value (an int, a tuple, a plain tensor) may be set before
            # super().__init__() -- stylegan2's ConvLayer sets self.padding first; a Parameter,
            # a Module or a Buffer may not (it needs the registries).
            if isinstance(value, (Parameter, Module, Buffer)):
                what = ("parameters" if isinstance(value, Parameter) else
                        "module" if isinstance(value, Module) else "buffer")
                raise AttributeError(f"cannot assign {what} {name!r} before Module.__init__() "
                                     f"call: {type(self).__name__}.__init__ must call "
                                     f"super().__init__() first")
            object.__setattr__(self, name, value)
            return
        if isinstance(value, Buffer):      # torch 2.13: assigning nn.Buffer(t) registers t
            self.register_buffer(name, value._plain(), value.persistent)
            return
        target = None
        params = self.__dict__["_parameters"]
        if name in params and value is not None and not isinstance(value, Parameter):
            raise InputTypeError(f"cannot assign {type(value).__name__} as parameter {name!r} of "
                                 f"{type(self).__name__} (a Parameter or None is expected; to "
                                 f"change its values, use load_state_dict, .copy_() or .data)")
        if name in self.__dict__["_modules"] and value is not None and not isinstance(value, Module):
            raise InputTypeError(f"cannot assign {type(value).__name__} as child module {name!r} of "
                                 f"{type(self).__name__} (a Module or None is expected)")
        if isinstance(value, Parameter) or (value is None and name in params):
            target = self._parameters          # None keeps the slot (and its place), as in torch
        elif isinstance(value, Module) or (value is None and name in self.__dict__["_modules"]):
            target = self._modules
        elif name in self.__dict__.get("_buffer_names", ()):
            if value is not None and not isinstance(value, (Tensor, np.ndarray)):
                raise InputTypeError(f"buffer {name!r} must be a Tensor or a NumPy array, got "
                                f"{type(value).__name__}")
            target = self._buffers
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not target:
                OrderedDict.pop(registry, name, None)     # plain dict ops: no _Registry mirroring
        if target is not None:   # an existing key keeps its place: state_dict order is stable
            OrderedDict.__setitem__(target, name, value)
            if params._copies:   # copy.copy's modules share the registries: all see the value
                for owner in params._owners():
                    if owner is not self:
                        object.__setattr__(owner, name, value)
                        _resync(owner)
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        """torch's lookup of a registered member by name, for code that calls it by hand:
        ``self.__getattr__('fc_mu' + str(j))`` (SEAN's ACE), ``super().__getattr__(name)`` in a
        wrapper's own ``__getattr__``. An ordinary read never gets here (members are plain
        instance attributes too); only a miss does, which then raises torch's AttributeError.
        As torch's, it sees only parameters, buffers and sub-modules (not ``training``)."""
        d = object.__getattribute__(self, "__dict__")     # safe before __init__ / in unpickling
        for kind in ("_parameters", "_buffers", "_modules"):
            registry = d.get(kind)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'",
                             name=name, obj=self)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if OrderedDict.pop(registry, name, _Registry._missing) is not _Registry._missing \
                    and registry._copies:       # copy.copy's modules: gone from all of them
                for owner in registry._owners():
                    if owner is not self:
                        owner.__dict__.pop(name, None)
                        _resync(owner)
        self.__dict__.get("_buffer_names", set()).discard(name)   # a later assignment is plain
        self.__dict__.get("_non_persistent", set()).discard(name)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: "Tensor | np.ndarray | None",
                        persistent: bool = True) -> None:
        """Saved, not trained state. Tensors follow ``.to(device)``; NumPy arrays stay on the host.
        ``persistent=False``: kept and moved like the others, but not in ``state_dict``."""
        _check_name("register_buffer", "buffer", name)     # state_dict keys split on '.'
        if name not in self._buffers and getattr(self, name, None) is not None:
            # torch's: not over a parameter, a submodule or a plain attribute (a None placeholder,
            # as track_running_stats=False leaves for a lazy subclass to fill, is let through)
            raise KeyError(f"attribute '{name}' already exists")
        names = self.__dict__.setdefault("_buffer_names", set())
        names.add(name)
        transient = self.__dict__.setdefault("_non_persistent", set())
        if persistent:
            transient.discard(name)
        else:
            transient.add(name)
        setattr(self, name, value)

    def register_parameter(self, name: str, value: Parameter | None) -> None:
        if value is not None and not isinstance(value, Parameter):
            raise InputTypeError(f"parameter {name!r} must be a Parameter, got {type(value).__name__}")
        _check_name("register_parameter", "parameter", name)
        if name not in self._parameters and getattr(self, name, None) is not None:
            raise KeyError(f"attribute '{name}' already exists")   # torch's, as register_buffer's
        if value is None:  # a None slot: the layer has no such parameter, and keeps its place
            OrderedDict.__setitem__(self._parameters, name, None)
        setattr(self, name, value)

    def add_module(self, name: str, module: "Module | None") -> None:
        if module is not None and not isinstance(module, Module):
            raise InputTypeError(f"add_module: {type(module).__name__} is not a Module")
        _check_name("add_module", "module", name)
        if name not in self._modules and hasattr(self, name):
            raise KeyError(f"attribute '{name}' already exists")   # torch's: a plain attribute stays
        if module is None:
            self._modules[name] = None     # torch keeps an empty slot (ModuleList([m, None]))
        setattr(self, name, module)

    def register_module(self, name: str, module: "Module | None") -> None:
        """torch's alias of :meth:`add_module`."""
        self.add_module(name, module)

    # -- traversal ---------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """Every module, depth first, once each -- a module shared by two parents is listed under
        its first name (PyTorch's signature and rule; ``remove_duplicate=False`` lists it every
        time, as ``state_dict`` does)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted path (``"body.3"``); ``""`` is this module (torch's rule)."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} (in {target!r})")
            module = child
        return module

    def set_submodule(self, target: str, module: "Module", strict: bool = False) -> None:
        """Put ``module`` at the dotted path ``target`` (torch 2.13's rules): the parent must
        exist; ``strict=True`` only replaces an existing attribute, never adds one; a non-Module
        attribute at that name is refused."""
        if target == "":
            raise ConfigError("set_submodule: cannot set the submodule without a target name")
        if not isinstance(module, Module):
            raise ConfigError(f"set_submodule: `module` is not a Module, found {type(module).__name__}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def _member(self, target: str) -> tuple["Module", str, Any]:
        """(owning module, name, value) of the attribute at dotted path ``target``."""
        module_path, _, name = target.rpartition(".")
        owner = self.get_submodule(module_path)
        if not hasattr(owner, name):
            raise AttributeError(f"{type(owner).__name__} has no attribute `{name}`")
        return owner, name, getattr(owner, name)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path (``"body.3.weight"``); AttributeError, as torch,
        when there is none or it is not a Parameter."""
        _, name, value = self._member(target)
        if not isinstance(value, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return value

    def get_buffer(self, target: str) -> "Tensor | np.ndarray":
        """The buffer at a dotted path (``"bn.running_mean"``); AttributeError, as torch, when
        there is none or it is not a registered buffer."""
        owner, name, value = self._member(target)
        if name not in owner._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return value

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen: set[int] = set()
        children = []
        for n, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                children.append((n, m))
        return iter(children)

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def _members(self, prefix: str, recurse: bool) -> Iterator[tuple[str, "Module"]]:
        return self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        seen = set()
        for mod_prefix, module in self._members(prefix, recurse):
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:  # a shared parameter is listed once
                    seen.add(id(p))
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, "Tensor | np.ndarray"]]:
        seen = set()
        for mod_prefix, module in self._members(prefix, recurse):
            for name, b in module._buffers.items():
                if b is not None and id(b) not in seen:
                    seen.add(id(b))
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator["Tensor | np.ndarray"]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # -- modes, gradients, devices -------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        if not isinstance(mode, (bool, np.bool_)):
            raise InputTypeError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        # Through each child's own train() (torch's rule), so a submodule that overrides it -- a
        # BatchNorm kept frozen in eval mode -- decides for itself and its subtree.
        object.__setattr__(self, "training", bool(mode))
        for child in self.children():
            child.train(bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none=False``: fill it with zeros instead)."""
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every submodule, children first, then on this module (PyTorch's order:
        ``model.apply(weights_init)``)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """Move every parameter and Tensor buffer in place to a device, and / or cast the
        floating-point ones to a dtype -- torch's forms: ``to(device)``, ``to(dtype)``,
        ``to(device, dtype)``, ``to(tensor)`` (its device and dtype), and the keywords
        ``device=``, ``dtype=``, ``non_blocking=`` (accepted; copies are synchronous)."""
        unknown = set(kwargs) - {"device", "dtype", "non_blocking", "memory_format"}
        if unknown or len(args) > 3:
            raise ConfigError(f"Module.to: unexpected arguments {sorted(unknown) or args}; expected "
                              f"to(device=None, dtype=None, non_blocking=False) or to(tensor)")
        targets = list(args[:2]) + [v for k, v in kwargs.items() if k in ("device", "dtype")
                                     and v is not None]
        if len(args) == 1 and isinstance(args[0], Tensor):
            targets = [args[0].device, args[0].dtype]
        for target in targets:
            if isinstance(target, bool):                     # to(device, non_blocking) positional
                continue
            self._to_one(target)
        if kwargs.get("memory_format") is not None:
            self._to_memory_format(kwargs["memory_format"])
        return self

    def _to_memory_format(self, memory_format: Any) -> None:
        """``to(memory_format=...)``, as torch's: every 4-D and 5-D parameter and buffer (and its
        gradient) re-laid in that format -- same values, the format's strides (a rank that does
        not fit the format is a ShapeError, as torch's); the kernels take either layout."""
        from .. import memory_formats as mf
        fmt = mf.check(memory_format, "Module.to")
        if fmt is mf.preserve_format:
            return

        def relaid(array: Any, xp: Any) -> Any:
            axes = mf.order(fmt, array.shape, "Module.to")
            if axes is None:
                return xp.ascontiguousarray(array)
            if array.strides == mf.relayout_strides(array, axes):
                return array
            return mf.relayout(xp, array, axes)

        for t in self._tensors():
            if is_lazy(t) or t.ndim not in (4, 5):
                continue
            t.array = relaid(t.array, t.device.xp)
            if t._grad is not None:
                t.grad.array = relaid(t.grad.array, t.grad.device.xp)

    def _to_one(self, target: Any) -> "Module":
        if names_a_device(target):
            device = get_device(target)
            for t in self._tensors():
                if is_lazy(t):                     # no data yet: it will materialize there
                    t._retarget(device, t.dtype)
                elif t.device is not device:
                    t.array, t.device = move_array(t.array, t.device, device), device
                    if t._grad is not None:
                        t.grad = t.grad.to(device)
            return self
        dtype = _check_dtype(target)
        for t in self._tensors():
            if is_lazy(t):
                t._retarget(t.device, dtype)
                continue
            if t.array.dtype.kind != "f":   # integer and bool buffers (counters, indices) stay
                continue
            t.array = t.array.astype(dtype)
            if t._grad is not None:        # the gradient follows, as in torch
                t.grad = Tensor._make(t.grad.array.astype(dtype), t.grad.device)
        return self

    def cpu(self) -> "Module":
        """``.to("cpu")``."""
        return self.to("cpu")

    def cuda(self, device: "int | str | Device | None" = None) -> "Module":
        """``.to("cuda")``; ``device`` as in torch (None or 0: the one CUDA device tensorgan uses)."""
        if device is None or (isinstance(device, int) and not isinstance(device, bool)):
            device = "cuda" if device in (None, 0) else f"cuda:{device}"   # cuda:1 -> DeviceError
        return self.to(device)

    def double(self) -> "Module":
        return self.to("float64")

    def float(self) -> "Module":
        return self.to("float32")

    def to_empty(self, *, device: Any, recurse: bool = True) -> "Module":
        """Give every parameter and Tensor buffer (and gradient) new, uninitialized memory on
        ``device`` (None: where each is) -- torch's way to materialize a model before loading
        its weights.  ``recurse=False``: this module's own only.  Host integer counters keep
        their values (unspecified in torch)."""
        target = None if device is None else get_device(device)
        own = self._parameters.values(), self._buffers.values()
        tensors = self._tensors() if recurse else (t for group in own for t in group
                                                   if isinstance(t, Tensor))
        for t in tensors:
            dev = target or t.device
            t.array, t.device = dev.xp.empty(t.array.shape, dtype=t.array.dtype), dev
            t._bump_version()
            if t._grad is not None:
                t.grad = Tensor._make(dev.xp.empty(t.grad.shape, dtype=t.grad.dtype), dev)
        return self

    def type(self, dst_type: Any) -> "Module":
        """Cast the floating parameters and buffers to ``dst_type`` (float32 / float64, or
        torch's ``"torch.FloatTensor"`` / ``"torch.DoubleTensor"``).  Unlike torch, integer
        buffers (BatchNorm's counter) stay integers, and an integer ``dst_type`` is refused:
        tensorgan's parameters are floating point."""
        dst_type = _TENSOR_TYPE_NAMES.get(dst_type, dst_type) if isinstance(dst_type, str) else dst_type
        return self.to(_check_dtype(dst_type))

    def share_memory(self) -> "Module":
        """torch moves the tensors to shared memory for multiprocessing; tensorgan's CPU arrays
        are plain NumPy memory, so this is a no-op that returns the module, and
        ``tg.multiprocessing.Process`` / ``spawn`` refuse a module among a child's arguments (the
        child would train a private copy: torch's hogwild pattern does not carry over)."""
        return self

    def half(self) -> "Module":
        """Float parameters and buffers as float16 (torch's ``Module.half()``)."""
        return self.to("float16")

    def bfloat16(self) -> "Module":
        """torch's ``Module.bfloat16()``: refused with tensorgan's bfloat16 DTypeError (NumPy has
        no bfloat16); use ``.half()`` or ``.float()``."""
        return self.to("bfloat16")

    # torch's class-level state-dict version (``_load_from_state_dict`` code reads
    # ``self._version``; tensorgan's modules are all at torch's version 1 layouts)
    _version: int = 1

    def _get_name(self) -> str:
        """The class name, as torch's ``Module._get_name()`` (HiFi-GAN's ``apply_mask`` and
        model-summary code branch on it)."""
        return type(self).__name__

    def _tensors(self) -> Iterator[Tensor]:
        yield from self.parameters()
        for b in self.buffers():
            if isinstance(b, Tensor):
                yield b

    def _get_device(self) -> Device | None:
        if "_user_device" in self.__dict__:
            return self.__dict__["_user_device"]
        for p in self.parameters():
            return p.device
        return None

    def _set_device(self, value: Any) -> None:
        self.__dict__["_user_device"] = value      # torch modules have no .device: it is the user's

    def _del_device(self) -> None:
        if "_user_device" not in self.__dict__:
            raise AttributeError("device")
        del self.__dict__["_user_device"]

    device = property(_get_device, _set_device, _del_device, doc=(
        "The device of the first parameter (None for a module without parameters); a module may "
        "set its own ``self.device = ...`` (torch modules have none, so programs do), which this "
        "then returns."))

    # -- state -------------------------------------------------------------------------------
    def state_dict(self, *, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Any]":
        """Every parameter and persistent buffer by dotted name, as torch's: Tensors outside the
        graph (``requires_grad=False``), each on its parameter's / buffer's own device (an integer
        counter kept as a host array, such as ``num_batches_tracked``, comes as a CPU int64
        Tensor); with ``keep_vars=True`` the Parameters and buffers themselves.  As torch's, the
        values share the parameters' memory (``sd[k].copy_(v)`` writes the module, later
        optimizer steps show in ``sd``): a snapshot to roll back to is
        ``copy.deepcopy(m.state_dict())`` or ``{k: v.clone() for k, v in ...}``.
        Plus ``<prefix>_extra_state`` for a module that defines ``get_extra_state``.  torch's
        recursion: each module's state-dict pre-hooks ``hook(module, prefix, keep_vars)`` run
        before its entries are written, its post-hooks
        ``hook(module, state_dict, prefix, local_metadata)`` after its children's.
        ``destination``: a dict to fill and return (torch's, for internal use)."""
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()   # type: ignore[attr-defined]
        local_metadata = {"version": getattr(type(self), "_version", 1)}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in list(self._state_dict_pre_hooks.values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=f"{prefix}{name}.", keep_vars=keep_vars)
        for hook in list(self._state_dict_hooks.values()):
            result = hook(self, destination, prefix, local_metadata)
            if result is not None:
                if not isinstance(hook, _LegacyStateDictHook):
                    raise InputTypeError("state_dict post-hook must return None (it edits the "
                                         "state_dict in place)")
                destination = result
        return destination

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """This module's own entries (not its children's)."""
        for name, t in self._local_state():
            if keep_vars:
                destination[prefix + name] = t
            else:
                destination[prefix + name] = _state_value(t)
        if _overrides(self, "get_extra_state"):
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def _local_state(self) -> Iterator[tuple[str, "Tensor | np.ndarray"]]:
        """This module's parameters and persistent buffers (not None), in registration order."""
        transient = self.__dict__.get("_non_persistent", ())
        for name, t in self._parameters.items():
            if t is not None:
                yield name, t
        for name, t in self._buffers.items():
            if t is not None and name not in transient:
                yield name, t

    def _state_items(self) -> Iterator[tuple[str, "Tensor | np.ndarray"]]:
        """Every parameter and buffer by dotted name, module by module (PyTorch's order)."""
        for prefix, module in self.named_modules(remove_duplicate=False):   # torch repeats shared ones
            dot = prefix + "." if prefix else ""
            for name, t in module._local_state():
                yield dot + name, t

    def get_extra_state(self) -> Any:
        """Extra state for ``state_dict`` (key ``<prefix>_extra_state``): override it, with
        :meth:`set_extra_state`, to save state that is not a parameter or buffer.  tensorgan's
        checkpoints never pickle: the value must be arrays, Tensors, numbers, strings, None, or
        dicts / lists / tuples of them (``tg.save`` refuses anything else, naming it)."""
        raise NotOverriddenError(f"{type(self).__name__}.get_extra_state() is only called for modules "
                             f"that override it (with set_extra_state)")

    def set_extra_state(self, state: Any) -> None:
        """Take back what :meth:`get_extra_state` returned (``load_state_dict`` calls it with
        the ``<prefix>_extra_state`` entry)."""
        raise NotOverriddenError(f"{type(self).__name__}.set_extra_state() is only called for modules "
                             f"that override it (with get_extra_state)")

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy the values -- Tensors (``state_dict()``'s, on any device: moved to each
        parameter's), NumPy / CuPy arrays, or a mix -- into the parameters and buffers in place
        (optimizers keep their references; nothing aliases the given values afterwards), and hand
        ``_extra_state`` entries to ``set_extra_state``.

        torch's hooks: each module's load-state-dict pre-hooks ``hook(module, state_dict, prefix,
        local_metadata, strict, missing_keys, unexpected_keys, error_msgs)`` first, parents
        before children, on a copy of ``state_dict`` they may edit (rename keys); the post-hooks
        ``hook(module, incompatible_keys)`` after loading, children first, and they may edit the
        two lists, which ``strict`` then checks.  Everything is checked before anything is
        written, so a failed load changes nothing (except that with post-hooks, a strict key
        mismatch is raised after them, as torch does).  Returns torch's named tuple
        ``(missing_keys, unexpected_keys)``.

        ``assign=True`` (torch's): the checkpoint's tensors become the parameters and buffers
        (their dtype and device kept, their memory shared; a Parameter keeps the module's
        ``requires_grad``) instead of being copied in -- for a model built on the ``meta``
        device or to skip the copy; a NumPy value becomes a CPU Tensor.  Integer counters
        (``num_batches_tracked``) are copied as before."""
        if not isinstance(state_dict, Mapping):
            raise CheckpointError(f"state_dict for {type(self).__name__} must be a mapping of names "
                                  f"to Tensors or arrays, got {type(state_dict).__name__}")
        state = OrderedDict(state_dict)       # the hooks may edit this copy
        missing: list = []
        unexpected: list = []
        errors: list = []
        modules = list(self.named_modules(remove_duplicate=False))
        _run_load_pre_hooks(modules, state, getattr(state_dict, "_metadata", None), strict,
                            missing, unexpected, errors)
        arrays, extras = self._match_state(state, modules, missing, unexpected, errors)
        post_hooks = any(m._load_state_dict_post_hooks for _, m in modules)
        if strict and not post_hooks:
            _check_keys(self, missing, unexpected, errors)
        if errors:
            raise StateDictMismatchError(f"{type(self).__name__}: " + "; ".join(errors))
        _write_state(arrays, extras, state, assign)
        result = IncompatibleKeys(missing, unexpected)
        _run_load_post_hooks(self, result)
        if strict:
            _check_keys(self, missing, unexpected)
        return result

    def _match_state(self, state: Mapping[str, Any], modules: list, missing: list,
                     unexpected: list, errors: list) -> tuple[list, list]:
        """Pair each entry of ``state`` with its parameter / buffer / extra state: the
        (module, name, key, target, array) tuples to write and the (module, value) extra states to set; the
        missing and unexpected keys and the shape / dtype problems go into the lists."""
        arrays, extras, known = [], [], set()
        for prefix, module in modules:
            dot = prefix + "." if prefix else ""
            for name, target in module._local_state():
                key = dot + name
                known.add(key)
                if key not in state:
                    missing.append(key)
                    continue
                value = _checked_value(state[key], target, key, errors)
                if value is not None:
                    arrays.append((module, name, key, target, value))
            key = dot + _EXTRA_STATE_KEY_SUFFIX
            if _overrides(module, "set_extra_state"):
                known.add(key)
                if key in state:
                    extras.append((module, state[key]))
                else:
                    missing.append(key)
        unexpected.extend(k for k in state if k not in known and k not in unexpected)
        return arrays, extras

    # -- calling -------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks or _global_hooks_set()):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        """torch's ``_call_impl``: forward pre-hooks, the backward hooks' identity on the inputs,
        forward, forward hooks, the identity on the outputs; ``always_call`` forward hooks also
        run when any of it raises."""
        result, called = None, set()
        try:
            args, kwargs = self._run_forward_pre_hooks(args, kwargs)
            bw_hook = None
            if self._backward_hooks or self._backward_pre_hooks or _global_backward_hooks \
                    or _global_backward_pre_hooks:
                bw_hook = BackwardHook(
                    self, [*_global_backward_hooks.values(), *self._backward_hooks.values()],
                    [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()])
                args = bw_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in self._all_forward_hooks():
                if hook_id in self._forward_hooks_always_called or \
                        hook_id in _global_forward_hooks_always_called:
                    called.add(hook_id)
                new = (hook(self, args, kwargs, result) if hook_id in self._forward_hooks_with_kwargs
                       or hook_id in _global_forward_hooks_with_kwargs else hook(self, args, result))
                if new is not None:          # a value returned replaces the output
                    result = new
            return result if bw_hook is None else bw_hook.setup_output_hook(result)
        except Exception:
            self._run_always_called_hooks(args, kwargs, result, called)
            raise

    def _all_forward_hooks(self) -> list:
        """The global forward hooks (``register_module_forward_hook``), then this module's."""
        return [*_global_forward_hooks.items(), *self._forward_hooks.items()]

    def _run_forward_pre_hooks(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        for hook_id, hook in [*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()]:
            if hook_id in self._forward_pre_hooks_with_kwargs:
                new = hook(self, args, kwargs)
                if new is not None:
                    if not (isinstance(new, tuple) and len(new) == 2):
                        raise InputTypeError(f"forward pre-hook must return None or a tuple of "
                                             f"(new_args, new_kwargs), but got {new!r}")
                    args, kwargs = new
            else:
                new = hook(self, args)      # a tuple, or one input, replaces the inputs
                if new is not None:
                    args = new if isinstance(new, tuple) else (new,)
        return args, kwargs

    def _run_always_called_hooks(self, args: tuple, kwargs: dict, result: Any, called: set) -> None:
        """After an error in the call: the ``always_call`` forward hooks not run yet, their own
        errors reduced to warnings (the first error is the one raised)."""
        for hook_id, hook in self._all_forward_hooks():
            if hook_id in called or not (hook_id in self._forward_hooks_always_called
                                         or hook_id in _global_forward_hooks_always_called):
                continue
            try:
                new = (hook(self, args, kwargs, result) if hook_id in self._forward_hooks_with_kwargs
                       or hook_id in _global_forward_hooks_with_kwargs else hook(self, args, result))
                result = result if new is None else new
            except Exception as exc:
                warnings.warn(f"module forward hook with ``always_call=True`` raised an exception "
                              f"that was silenced as another error was raised in forward: {exc}",
                              stacklevel=_caller_level())

    def _has_hooks(self) -> bool:
        return bool(self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                    or self._backward_pre_hooks or _global_hooks_set())

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` before each forward (torch's); a value it returns (a tuple, or
        one input) replaces the inputs.  ``with_kwargs=True``: ``hook(module, args, kwargs)``,
        returning None or ``(new_args, new_kwargs)``.  ``prepend``: run before the hooks already
        there.  ``handle.remove()`` takes it off."""
        flags = [(self._forward_pre_hooks_with_kwargs, with_kwargs)]
        return self._add_hook(self._forward_pre_hooks, hook, "register_forward_pre_hook", prepend, flags)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False, always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` after each forward (torch's: e.g. to keep a layer's
        features); a value it returns replaces the output.  ``with_kwargs=True``:
        ``hook(module, args, kwargs, output)``; ``always_call=True``: also run when the call
        raises (with the output None); ``prepend``: before the hooks already there."""
        flags = [(self._forward_hooks_with_kwargs, with_kwargs),
                 (self._forward_hooks_always_called, always_call)]
        return self._add_hook(self._forward_hooks, hook, "register_forward_hook", prepend, flags)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any],
                                        prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` when the gradients of the module's outputs are known,
        before they go into the module; a tuple it returns (same length) replaces grad_output.
        ``grad_output`` holds None for a non-Tensor output or one the loss does not use.  As in
        torch, with backward hooks the module's forward gets views of its input Tensors and the
        caller views of its outputs (writing those in place makes backward refuse)."""
        return self._add_hook(self._backward_pre_hooks, hook, "register_full_backward_pre_hook", prepend)

    def register_full_backward_hook(self, hook: Callable[..., Any],
                                    prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` once the gradients w.r.t. the module's
        positional Tensor inputs are known (torch's rules): ``grad_input`` has one entry per
        positional argument -- None for a non-Tensor, zeros for a Tensor that got no gradient --
        and a tuple the hook returns (same length) replaces it.  When no input requires grad,
        the hook fires with the output gradients, ``grad_input`` all None (and a warning), and
        must return None; when no output requires grad it never fires."""
        self._mark_backward_hook_kind(full=True)
        return self._add_hook(self._backward_hooks, hook, "register_full_backward_hook", prepend)

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Deprecated in torch in favour of :meth:`register_full_backward_hook`; here it *is* a
        full backward hook (grad_input w.r.t. the module's inputs, not torch's legacy "inputs
        of the last op in forward"), with a FutureWarning saying so."""
        warnings.warn("register_backward_hook is deprecated (as in torch): use "
                      "register_full_backward_hook; tensorgan runs this hook as a full backward "
                      "hook (grad_input is the gradient w.r.t. the module's inputs)",
                      FutureWarning, stacklevel=2)
        self._mark_backward_hook_kind(full=False)
        return self._add_hook(self._backward_hooks, hook, "register_backward_hook")

    def _mark_backward_hook_kind(self, full: bool) -> None:
        """torch refuses regular (``register_backward_hook``) and full backward hooks on one
        module; the first kind registered sticks, even once its handle is removed, as torch's."""
        kind = self.__dict__.get("_is_full_backward_hook")
        if kind is not None and kind != full:
            raise AutogradError("Cannot use both regular backward hooks and full backward hooks "
                                "on a single Module. Please use only one of them.")
        self.__dict__["_is_full_backward_hook"] = full

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` before ``state_dict`` writes this module's entries."""
        return self._add_hook(self._state_dict_pre_hooks, hook, "register_state_dict_pre_hook")

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` after ``state_dict`` wrote this
        module's and its children's entries; it edits ``state_dict`` in place and returns None."""
        return self._add_hook(self._state_dict_hooks, hook, "register_state_dict_post_hook")

    def _register_state_dict_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """torch's older, private form of :meth:`register_state_dict_post_hook` (still common in
        libraries): a dict ``hook`` returns replaces the state dict."""
        if not callable(hook):
            raise InputTypeError(f"_register_state_dict_hook takes a function, got {type(hook).__name__}")
        return self._add_hook(self._state_dict_hooks, _LegacyStateDictHook(hook), "_register_state_dict_hook")

    def _register_load_state_dict_pre_hook(self, hook: Callable[..., Any],
                                           with_module: bool = False) -> RemovableHandle:
        """torch's older, private form of :meth:`register_load_state_dict_pre_hook`:
        ``hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)``, with the module first only when ``with_module``."""
        if not callable(hook):
            raise InputTypeError(f"_register_load_state_dict_pre_hook takes a function, got "
                                 f"{type(hook).__name__}")
        return self.register_load_state_dict_pre_hook(
            hook if with_module else lambda module, *rest: hook(*rest))

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before ``load_state_dict`` matches the keys: it may edit
        ``state_dict`` (a copy of the caller's) and append to the three lists."""
        return self._add_hook(self._load_state_dict_pre_hooks, hook, "register_load_state_dict_pre_hook")

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` after ``load_state_dict`` copied the values; it may
        edit ``incompatible_keys.missing_keys`` / ``.unexpected_keys`` in place (``strict``
        checks them afterwards) and returns None."""
        return self._add_hook(self._load_state_dict_post_hooks, hook, "register_load_state_dict_post_hook")

    @staticmethod
    def _add_hook(hooks: OrderedDict, hook: Callable[..., Any], name: str, prepend: bool = False,
                  flags: list | None = None) -> RemovableHandle:
        """Register ``hook`` in ``hooks`` (first with ``prepend``); ``flags``: the flag dicts
        (with_kwargs, always_call) to mark it in where the value is true."""
        if not callable(hook):
            raise InputTypeError(f"{name} takes a function, got {type(hook).__name__}")
        handle = RemovableHandle(hooks, extra_dict=[flag_dict for flag_dict, _ in flags or ()])
        hooks[handle.id] = hook
        for flag_dict, on in flags or ():
            if on:
                flag_dict[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        # every slot, as torch's: an empty one prints None, a shared module under each name
        # torch's layout: a one-line extra_repr alone stays inline; else each line of it, then
        # each child, on its own indented line (ParameterList's per-item lines)
        children = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        extra = self.extra_repr()
        lines = (extra.split("\n") if extra else []) + children
        if not children and len(lines) <= 1:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def check_input(module: Module, x: Any, ranks: tuple[int, ...], layout: str,
                channels: int | None = None, channel_axis: int = 1, half_ok: bool = False) -> None:
    """Validate a module's input: a Tensor of the right rank (and channel count), on the module's
    device, of its dtype -- or, with ``half_ok`` (the norms), float16 beside float32 weights, as
    torch's mixed-dtype norms take it. Errors name the module, as users see modules."""
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{_short(module)}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in ranks:
        raise ShapeError(f"{_short(module)}: expected input of shape {layout}, got {x.shape}")
    if channels is not None and x.shape[channel_axis] != channels:
        raise ShapeError(f"{_short(module)}: expected {channels} input channels/features, got "
                         f"input of shape {x.shape}")
    weight = _reference_weight(module)
    if weight is not None:
        if x.device is not weight.device:
            raise DeviceError(f"{_short(module)}: input is on {x.device} but the module's weights "
                              f"are on {weight.device}; move one with .to(device)")
        if x.dtype != weight.dtype and not (half_ok and x.dtype == np.float16
                                            and weight.dtype == np.float32):
            raise DTypeError(f"{_short(module)}: input is {x.dtype} but the module's weights are "
                             f"{weight.dtype}; convert with .to({weight.dtype.name!r})")


def _reference_weight(module: Module) -> "Tensor | None":
    """What check_input compares the input's device and dtype with: the weight; for a weight
    under a parametrization (``parametrize``), its stored original -- reading ``module.weight``
    would run the parametrization (a power iteration, for spectral norm); else BatchNorm's
    running_mean (no affine weights)."""
    weight = module.__dict__.get("weight")
    chains = module.__dict__.get("parametrizations")
    if weight is None and chains is not None and "weight" in chains:
        weight = next(iter(chains["weight"].parameters(recurse=False)), None)
    return module.__dict__.get("running_mean") if weight is None else weight


def _short(module: Module) -> str:
    return f"{type(module).__name__}({module.extra_repr()})"


def _overrides(module: Module, method: str) -> bool:
    """Whether ``module``'s class defines its own ``get_extra_state`` / ``set_extra_state``."""
    return getattr(type(module), method) is not getattr(Module, method)


def _post_order(module: Module) -> Iterator[Module]:
    """Children before their parent, a shared module each time it is reached (torch's order of
    the load-state-dict post-hooks)."""
    for child in module._modules.values():
        if child is not None:
            yield from _post_order(child)
    yield module


def _state_value(t: "Tensor | np.ndarray") -> Any:
    """``state_dict``'s value for a parameter or buffer, as torch's: the tensor detached,
    sharing its memory (writing ``sd[k].copy_(...)`` writes the module -- BigGAN's EMA and the
    ``own_state[name].copy_(param)`` loaders rely on it; later optimizer steps show through, so
    a snapshot needs ``copy.deepcopy`` / ``.clone()``, as in torch); a host array buffer (an
    IntBuffer counter) as a CPU Tensor over the same memory, when Tensors hold its dtype (else
    the plain NumPy array, still shared)."""
    if isinstance(t, Tensor):
        return t.detach()
    array = np.asarray(t)                   # an IntBuffer (or any ndarray) as a plain ndarray view
    if array.dtype.kind in "biufc":
        value = Tensor._from(array, device="cpu")
        if value.dtype == array.dtype and np.shares_memory(value.array, array):
            return value
    return array                            # a dtype tensors do not hold (uint16, complex, str)


def _checked_value(value: Any, target: "Tensor | np.ndarray", key: str, errors: list) -> Any:
    """``value`` as a host array that fits ``target``, or None with the problem added to
    ``errors``."""
    if is_lazy(value) or is_lazy(target):
        if not is_lazy(target):
            errors.append(f"{key!r} is uninitialized in the checkpoint (a lazy module's) but has shape "
                          f"{tuple(target.shape)} in the model")
        return None              # uninitialized into uninitialized: nothing to copy (torch's)
    if isinstance(value, Tensor):   # on the target's GPU: copied there directly; else via the host
        on_device = isinstance(target, Tensor) and value.device.xp is not np and value.device == target.device
        value = value.array if on_device else value.numpy()
    else:
        value = as_host_array(value)
    if len(target.shape) == 0 and value.shape == (1,):
        value = value.reshape(())      # torch's rule for 0-dim entries saved 1-dim (torch 0.3, old EMA buffers)
    if value.shape != tuple(target.shape):
        errors.append(f"parameter {key!r} has shape {tuple(value.shape)} in the checkpoint but "
                      f"{tuple(target.shape)} in the model")
        return None
    integral = (value.dtype.kind == "f" and target.dtype.kind in "iu"
                and bool(np.all(as_host_array(value) == np.round(as_host_array(value)))))
    if not (np.can_cast(value.dtype, target.dtype, "same_kind") or integral):
        errors.append(f"{key!r} is {value.dtype} in the checkpoint, the model needs {target.dtype}")
        return None
    return value


def _assign(module: Module, name: str, target: Tensor, value: Any) -> None:
    """``load_state_dict(assign=True)``'s write: ``value`` (already checked to fit) becomes
    ``module.<name>``, a Parameter with the old one's ``requires_grad`` where it was one."""
    if not isinstance(value, Tensor):
        value = Tensor._from(as_host_array(value), device="cpu")
    if len(target.shape) == 0 and tuple(value.shape) == (1,):
        value = value.reshape(())          # the 0-dim rule of _checked_value
    if isinstance(target, Parameter):
        if isinstance(value, Parameter):
            value = value.requires_grad_(target.requires_grad)
        else:
            value = Parameter(value.detach(), requires_grad=target.requires_grad)
    setattr(module, name, value)


def _run_load_pre_hooks(modules: list, state: OrderedDict, metadata: Any, strict: bool,
                        missing: list, unexpected: list, errors: list) -> None:
    """load_state_dict's first pass, parents before children: each module's pre-hooks, then its
    class's fix-up of older checkpoints, both free to edit ``state`` (rename keys)."""
    for prefix, module in modules:
        local_metadata = {} if metadata is None else metadata.get(prefix, {})
        for hook in list(module._load_state_dict_pre_hooks.values()):
            hook(module, state, prefix + "." if prefix else "", local_metadata, strict,
                 missing, unexpected, errors)
        upgrade = getattr(type(module), "_upgrade_state_dict", None)
        if upgrade is not None:      # a layer's fix-up of older checkpoints (_load_from_state_dict)
            upgrade(module, state, prefix + "." if prefix else "", local_metadata)


def _write_state(arrays: list, extras: list, state: Mapping[str, Any], assign: bool) -> None:
    """load_state_dict's writes, once everything is checked: values copied into the parameters
    and buffers in place (or, with ``assign``, the checkpoint's Tensors put in their place),
    then the extra states handed to ``set_extra_state``."""
    for module, name, key, target, value in arrays:
        if assign and isinstance(target, Tensor):
            _assign(module, name, target, state[key])
        elif isinstance(target, Tensor):
            target.array[...] = target.device.xp.asarray(value, dtype=target.dtype)
            target._bump_version()
        else:
            target[...] = value
    for module, value in extras:
        module.set_extra_state(value)


def _run_load_post_hooks(root: Module, result: IncompatibleKeys) -> None:
    """Each module's load-state-dict post-hooks, children first; they edit ``result`` in place."""
    for module in _post_order(root):
        for hook in list(module._load_state_dict_post_hooks.values()):
            if hook(module, result) is not None:
                raise InputTypeError("a load_state_dict post-hook must return None (it edits "
                                     "incompatible_keys in place)")


def _check_keys(module: Module, missing: list, unexpected: list, errors: tuple = ()) -> None:
    """strict=True: every missing and unexpected key, in one error with the shape / dtype
    ``errors`` (as torch lists them all)."""
    if missing or unexpected:
        problems = [f"{len(keys)} {what} key(s): " + ", ".join(map(repr, keys))
                    for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
        problems += errors
        hint = _prefix_hint(missing, unexpected)
        raise StateDictMismatchError(f"state_dict for {type(module).__name__} does not match the model: "
                              + "; ".join(problems) + hint)


_WRAPPER_PREFIXES = (("module.", "DataParallel / DistributedDataParallel"),
                     ("_orig_mod.", "torch.compile"))


def _prefix_hint(missing: list, unexpected: list) -> str:
    """One more line for a strict key mismatch caused by a wrapper's prefix (``module.`` from
    DataParallel / DDP, ``_orig_mod.`` from compile) on every checkpoint key or every model key."""
    if not (missing and unexpected):
        return ""
    for prefix, wrapper in _WRAPPER_PREFIXES:
        if all(k.startswith(prefix) for k in unexpected) and \
                {k[len(prefix):] for k in unexpected} & set(missing):
            return (f"\nthe checkpoint's keys all carry the prefix {prefix!r} (saved from a {wrapper} "
                    f"wrapper) and the model's do not: strip it with "
                    f"{{k.removeprefix({prefix!r}): v for k, v in sd.items()}} or "
                    f"nn.modules.utils.consume_prefix_in_state_dict_if_present(sd, {prefix!r})")
        if all(k.startswith(prefix) for k in missing) and \
                {k[len(prefix):] for k in missing} & set(unexpected):
            return (f"\nthe model's keys all carry the prefix {prefix!r} (it is wrapped in "
                    f"{wrapper}) and the checkpoint's do not: load into the wrapped module "
                    f"(model.{prefix[:-1]}.load_state_dict(sd)) or add the prefix with "
                    f"{{{prefix!r} + k: v for k, v in sd.items()}}")
    return ""
