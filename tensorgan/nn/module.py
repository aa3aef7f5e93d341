"""Module and Parameter: the containers that hold a network's state.

A Module registers, by plain attribute assignment, three kinds of members:

* :class:`Parameter` -- a leaf Tensor the optimizer updates (``requires_grad=True``);
* buffers -- state that is saved but not trained (BatchNorm's running statistics), registered with
  :meth:`Module.register_buffer`; a buffer is a Tensor (moved by ``.to(device)``) or a host NumPy
  array for integer counters such as ``num_batches_tracked`` (an :class:`IntBuffer`, which also
  takes the in-place Tensor methods EMA code calls on buffers);
* sub-modules.

Members also live in the instance ``__dict__``, so ``self.weight`` is an ordinary attribute lookup
(no ``__getattr__`` on the hot path, unlike PyTorch).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from ..backend import Device, as_host_array, get_device, move_array
from ..errors import CheckpointError, ConfigError, DeviceError, DTypeError, InputTypeError, ShapeError
from ..tensor import RemovableHandle, Tensor, _check_dtype


class IntBuffer(np.ndarray):
    """A host integer counter buffer (BatchNorm's ``num_batches_tracked``; torch's is an int64
    tensor, tensorgan's tensors are floating point): a NumPy array that also answers the Tensor
    methods code looping over ``buffers()`` calls -- StyleGAN's EMA does
    ``for b_ema, b in zip(G_ema.buffers(), G.buffers()): b_ema.copy_(b)``."""

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


class Parameter(Tensor):
    """A Tensor that is a module's trainable weight: always a leaf, ``requires_grad=True``."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None, device: Any = None):
        if isinstance(data, Tensor):
            device = data.device if device is None else device
            data = data.array if get_device(device) is data.device else data.numpy()
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, device=device)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` did not match."""
    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of every layer and model; subclasses implement ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())   # register_forward_pre_hook
        object.__setattr__(self, "_forward_hooks", OrderedDict())       # register_forward_hook

    # -- registration ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning {name!r}")
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
                registry.pop(name, None)
        if target is not None:
            target[name] = value  # an existing key keeps its place: state_dict order is stable
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self.__dict__.get("_buffer_names", set()).discard(name)   # a later assignment is plain
        self.__dict__.get("_non_persistent", set()).discard(name)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: "Tensor | np.ndarray | None",
                        persistent: bool = True) -> None:
        """Saved, not trained state. Tensors follow ``.to(device)``; NumPy arrays stay on the host.
        ``persistent=False``: kept and moved like the others, but not in ``state_dict``."""
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
        if value is None:  # a None slot: the layer has no such parameter, and keeps its place
            self._parameters[name] = None
        setattr(self, name, value)

    def add_module(self, name: str, module: "Module | None") -> None:
        if module is not None and not isinstance(module, Module):
            raise InputTypeError(f"add_module: {type(module).__name__} is not a Module")
        if not isinstance(name, str) or not name or "." in name:
            raise ConfigError(f"add_module: module name must be a non-empty string without '.', "
                              f"got {name!r}")
        setattr(self, name, module)

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

    def requires_grad_(self, flag: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def to(self, target: Any) -> "Module":
        """Move every parameter and Tensor buffer in place to a device, or cast to a dtype."""
        if isinstance(target, Device) or str(target).split(":")[0].strip().lower() in ("cpu", "cuda", "gpu"):
            device = get_device(target)
            for t in self._tensors():
                if t.device is not device:
                    t.array, t.device = move_array(t.array, t.device, device), device
                    if t.grad is not None:
                        t.grad = t.grad.to(device)
            return self
        dtype = _check_dtype(target)
        for t in self._tensors():
            if t.array.dtype.kind != "f":   # integer and bool buffers (counters, indices) stay
                continue
            t.array = t.array.astype(dtype)
            if t.grad is not None:        # the gradient follows, as in torch
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

    def half(self) -> "Module":
        """Float parameters and buffers as float16 (torch's ``Module.half()``)."""
        return self.to("float16")

    def _tensors(self) -> Iterator[Tensor]:
        yield from self.parameters()
        for b in self.buffers():
            if isinstance(b, Tensor):
                yield b

    @property
    def device(self) -> Device | None:
        """The device of the first parameter (None for a module without parameters)."""
        for p in self.parameters():
            return p.device
        return None

    # -- state -------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Host NumPy copies of every parameter and buffer, by dotted name."""
        return OrderedDict((name, t.numpy() if isinstance(t, Tensor) else np.array(t, copy=True))
                           for name, t in self._state_items())

    def _state_items(self) -> Iterator[tuple[str, "Tensor | np.ndarray"]]:
        """Every parameter and buffer by dotted name, module by module (PyTorch's order)."""
        for prefix, module in self.named_modules(remove_duplicate=False):   # torch repeats shared ones
            dot = prefix + "." if prefix else ""
            transient = module.__dict__.get("_non_persistent", ())
            for registry in (module._parameters, module._buffers):
                for name, t in registry.items():
                    if t is not None and not (registry is module._buffers and name in transient):
                        yield dot + name, t

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> "IncompatibleKeys":
        """Copy arrays into the parameters and buffers in place (optimizers keep their references).

        Everything is checked before anything is written, so a failed load changes nothing.
        Returns ``(missing_keys, unexpected_keys)`` (a named tuple, as in PyTorch; the lists are
        only non-empty when ``strict=False``)."""
        if not isinstance(state, Mapping):
            raise CheckpointError(f"state_dict for {type(self).__name__} must be a mapping of names "
                                  f"to arrays, got {type(state).__name__}")
        targets = OrderedDict(self._state_items())
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        if strict and (missing or unexpected):     # all of them, as torch lists them
            problems = [f"{len(keys)} {what} key(s): " + ", ".join(map(repr, keys))
                        for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
            raise CheckpointError(f"state_dict for {type(self).__name__} does not match the model: "
                                  + "; ".join(problems))
        arrays = {}
        for name, target in targets.items():
            if name not in state:
                continue
            value = state[name]
            value = value.numpy() if isinstance(value, Tensor) else as_host_array(value)
            if value.shape != tuple(target.shape):
                raise CheckpointError(f"{type(self).__name__}: parameter {name!r} has shape "
                                      f"{tuple(value.shape)} in the checkpoint but "
                                      f"{tuple(target.shape)} in the model")
            integral = value.dtype.kind == "f" and target.dtype.kind in "iu" and np.all(value == np.round(value))
            if not (np.can_cast(value.dtype, target.dtype, "same_kind") or integral):
                raise CheckpointError(f"{type(self).__name__}: {name!r} is {value.dtype} in the "
                                      f"checkpoint, the model needs {target.dtype}")
            arrays[name] = value
        for name, value in arrays.items():
            target = targets[name]
            if isinstance(target, Tensor):
                target.array[...] = target.device.xp.asarray(value, dtype=target.dtype)
                target._bump_version()
            else:
                target[...] = value
        return IncompatibleKeys(missing, unexpected)

    # -- calling -------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._has_hooks():
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)           # a value returned replaces the inputs
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)   # a value returned replaces the output
            if result is not None:
                output = result
        return output

    def _has_hooks(self) -> bool:
        return bool(self._forward_pre_hooks or self._forward_hooks)

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, inputs)`` before each forward (torch's); a value it returns (a tuple,
        or one input) replaces the inputs. ``handle.remove()`` takes it off."""
        return self._add_hook(self._forward_pre_hooks, hook, "register_forward_pre_hook")

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, inputs, output)`` after each forward (torch's: e.g. to keep a layer's
        features); a value it returns replaces the output."""
        return self._add_hook(self._forward_hooks, hook, "register_forward_hook")

    @staticmethod
    def _add_hook(hooks: dict, hook: Callable[..., Any], name: str) -> RemovableHandle:
        if not callable(hook):
            raise InputTypeError(f"{name} takes a function, got {type(hook).__name__}")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        return head + "\n  " + "\n  ".join(children) + "\n)"


def check_input(module: Module, x: Any, ranks: tuple[int, ...], layout: str,
                channels: int | None = None, channel_axis: int = 1) -> None:
    """Validate a module's input: a Tensor of the right rank (and channel count), on the module's
    device, of its dtype. Errors name the module, as users see modules, not functional ops."""
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
        if x.dtype != weight.dtype:
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
