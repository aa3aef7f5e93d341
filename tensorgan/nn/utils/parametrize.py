"""torch's ``torch.nn.utils.parametrize``: a parameter computed from others on every access.

``register_parametrization(layer, "weight", P())`` moves ``layer.weight`` to
``layer.parametrizations.weight.original`` (the same Parameter object, so an optimizer built
before still trains it) and makes ``layer.weight`` a property that returns ``P()(original)``
each time it is read -- gradients flow to ``original``.  As in torch, the layer's class becomes
a generated subclass ``Parametrized<Class>`` holding that property, and is restored when the
last parametrization is removed.  Assigning ``layer.weight = value`` calls the parametrizations'
``right_inverse`` (last registered first) and stores the result in ``original``.

State-dict keys are torch's: ``parametrizations.weight.original`` (or ``original0``,
``original1``, ... when the first ``right_inverse`` returns several tensors), then each
parametrization's own parameters and buffers under ``parametrizations.weight.<i>.``.
"""
from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Iterator

from ...errors import ConfigError, DTypeError, InputTypeError, ShapeError
from ...tensor import Tensor, no_grad
from ..layers import ModuleDict, ModuleList
from ..module import Module, Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "transfer_parametrizations_and_params",
           "type_before_parametrizations", "ParametrizationList"]

_cache_enabled = 0
_cache: dict = {}


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Within the block, each parametrized tensor is computed once, at its first access, and the
    same Tensor is returned after (torch's ``parametrize.cached``): a weight read several times
    in one forward (shared weights, an RNN loop) costs one parametrization.  The cache is dropped
    when the outermost block exits.  Training-mode spectral norm then does one power iteration
    per block, not per access."""
    global _cache_enabled, _cache
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _check_result(value: object, shape: tuple, dtype: object, what: str) -> None:
    """A parametrization's output (or right_inverse's) must keep the tensor's shape and dtype
    unless ``unsafe=True``: torch's checks, as typed errors."""
    if not isinstance(value, Tensor):
        raise InputTypeError(f"register_parametrization: {what} must return a Tensor, got "
                             f"{type(value).__name__}")
    if value.dtype != dtype:
        raise DTypeError(f"register_parametrization: {what} changes the dtype from {dtype} to "
                         f"{value.dtype}; pass unsafe=True if that is intended")
    if tuple(value.shape) != tuple(shape):
        raise ShapeError(f"register_parametrization: {what} changes the shape from "
                         f"{tuple(shape)} to {tuple(value.shape)}; pass unsafe=True if that is intended")


def _set_tensor(dest: Tensor, src: Tensor) -> None:
    """torch's ``dest.set_(src)`` without the shared storage: ``dest`` (the same object, so an
    optimizer keeps it) takes ``src``'s values, and its shape where that differs."""
    if src is dest:
        return
    if tuple(dest.shape) == tuple(src.shape):
        with no_grad():
            dest.copy_(src)
    else:
        dest.array = src.device.xp.array(src.array, dtype=dest.dtype)
        dest.grad = None
        dest._bump_version()


def _register_tensor(module: Module, name: str, value: Tensor) -> None:
    """Register ``value`` as a parameter when it is a Parameter, else as a buffer (torch's rule)."""
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


class ParametrizationList(ModuleList):
    """``module.parametrizations[name]``: the parametrizations of one tensor, applied in order,
    and its unparametrized value(s), ``original`` (or ``original0``, ``original1``, ...).
    Made by :func:`register_parametrization`, not by hand (as in torch)."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ConfigError("ParametrizationList needs one or more parametrizations")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = tuple(original.shape), original.dtype
        new = _right_inverse(self, original, required=False)
        if not isinstance(new, (Tensor, Sequence)):
            raise InputTypeError(f"right_inverse must return a Tensor or a sequence of Tensors, "
                                 f"got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != dtype:
                raise DTypeError(f"right_inverse may not change the dtype of a single tensor "
                                 f"({dtype} -> {new.dtype})")
            _set_tensor(original, new)
            _register_tensor(self, "original", original)
        else:
            for i, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise InputTypeError(f"right_inverse returned a {type(part).__name__} as "
                                         f"element {i}; every element must be a Tensor")
                if isinstance(original, Parameter):
                    part = Parameter(part.detach(), requires_grad=original.requires_grad)
                _register_tensor(self, f"original{i}", part)
        if not self.unsafe:
            _check_result(self(), shape, dtype, "the parametrization")

    def right_inverse(self, value: Tensor) -> None:
        """Store ``value`` as the parametrized tensor: the right inverses, last registered first,
        give the new ``original`` (torch's ``module.weight = value``)."""
        value = _right_inverse(self, value, required=True)
        if self.is_tensor:
            _check_stored(value, self.original, "original")
            _set_tensor(self.original, value)
            return
        if not isinstance(value, Sequence) or len(value) != self.ntensors:
            raise InputTypeError(f"right_inverse must return a sequence of {self.ntensors} "
                                 f"Tensors, got {type(value).__name__}")
        for i, part in enumerate(value):
            target = getattr(self, f"original{i}")
            _check_stored(part, target, f"original{i}")
            _set_tensor(target, part)

    def forward(self) -> Tensor:
        """The parametrized tensor: the first parametrization on the original(s), then the rest."""
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for parametrization in list(self)[1:]:
            x = parametrization(x)
        return x


def _right_inverse(parametrizations: ParametrizationList, value: object, required: bool) -> object:
    """Apply the right inverses, last parametrization first, without a graph.  One without
    ``right_inverse`` counts as the identity at registration; at assignment it is refused."""
    with no_grad():
        for parametrization in reversed(list(parametrizations)):
            inverse = getattr(parametrization, "right_inverse", None)
            if inverse is not None:
                try:
                    value = inverse(value)
                except NotImplementedError:
                    if required:
                        raise
            elif required:
                raise ConfigError(f"parametrization {type(parametrization).__name__} has no "
                                  f"right_inverse, so the parametrized tensor cannot be assigned")
    return value


def _check_stored(value: object, target: Tensor, name: str) -> None:
    if not isinstance(value, Tensor):
        raise InputTypeError(f"right_inverse must return a Tensor for {name}, got {type(value).__name__}")
    if value.dtype != target.dtype:
        raise DTypeError(f"right_inverse returned a {value.dtype} tensor for {name}, which is "
                         f"{target.dtype}")


# -- the generated subclass ----------------------------------------------------------------------
def _parametrized_setattr(self: Module, name: str, value: object) -> None:
    """``layer.weight = value`` on a parametrized name goes to right_inverse, even for a
    Parameter (which Module.__setattr__ would otherwise register as a new parameter)."""
    parametrizations = self.__dict__.get("parametrizations")
    if isinstance(parametrizations, ModuleDict) and name in parametrizations:
        parametrizations[name].right_inverse(value)
    else:
        type(self).__bases__[0].__setattr__(self, name, value)


def _parametrized_reduce(self: Module, protocol: int) -> tuple:
    """Pickling and ``copy.deepcopy``: rebuild from the original class, with a fresh generated
    subclass per copy (torch's copies share one, so removing a parametrization from a copy
    also took the property off the original's class)."""
    return (_rebuild, (type(self).__bases__[0], tuple(self.parametrizations.keys())), self.__dict__)


def _rebuild(cls: type, names: tuple) -> Module:
    module = cls.__new__(cls)
    _inject_new_class(module)
    for name in names:
        _inject_property(module, name)
    return module


def _inject_new_class(module: Module) -> None:
    cls = type(module)
    generated = type(f"Parametrized{cls.__name__}", (cls,),
                     {"__setattr__": _parametrized_setattr, "__reduce_ex__": _parametrized_reduce,
                      "__module__": cls.__module__})
    object.__setattr__(module, "__class__", generated)


def _inject_property(module: Module, name: str) -> None:
    def get_parametrized(self: Module) -> Tensor:
        parametrization = self.parametrizations[name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = parametrization()
        return _cache[key]

    def set_original(self: Module, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    setattr(type(module), name, property(get_parametrized, set_original))


# -- the public functions ------------------------------------------------------------------------
def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` be ``parametrization(original)`` on every access (torch's).

    A second registration on the same name chains: the new parametrization is applied to the
    previous result.  ``parametrization.right_inverse`` (optional) maps a value back to the
    original(s): at registration (so the layer starts out computing what it did, when it is a
    true right inverse) and on ``module.<tensor_name> = value``.  ``unsafe=True`` lets the
    parametrization change the shape or dtype (otherwise ShapeError / DTypeError)."""
    if not isinstance(module, Module) or not isinstance(parametrization, Module):
        culprit = parametrization if isinstance(module, Module) else module
        raise InputTypeError(f"register_parametrization takes a Module and a Module "
                             f"parametrization, got {type(culprit).__name__}")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            current = getattr(module, tensor_name)
            result = parametrization(current)
            _check_result(result, current.shape, current.dtype, "the parametrization")
            if hasattr(parametrization, "right_inverse"):
                try:
                    inverse = parametrization.right_inverse(result)
                except NotImplementedError:
                    pass
                else:
                    _check_result(inverse, current.shape, current.dtype, "right_inverse")
        chain = module.parametrizations[tensor_name]
        chain.append(parametrization)
        chain.unsafe = chain.unsafe or unsafe
    elif tensor_name in module._parameters or tensor_name in module._buffers:
        original = getattr(module, tensor_name)
        if original is None:
            raise ConfigError(f"register_parametrization: {type(module).__name__}.{tensor_name} "
                              f"is None (the layer was built without it)")
        chain = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = chain
    else:
        raise ConfigError(f"register_parametrization: {type(module).__name__} has no parameter, "
                          f"buffer or parametrized tensor named {tensor_name!r} (it has "
                          f"{list(module._parameters) + list(module._buffers)})")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, or on any tensor)."""
    parametrizations = module.__dict__.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Take the parametrizations off ``module.<tensor_name>``, which becomes a plain parameter (or
    buffer) again: holding the current parametrized value (``leave_parametrized=True``, in the
    original Parameter object when it has one) or the original.  The last removal restores the
    module's own class and drops ``module.parametrizations``."""
    if not is_parametrized(module, tensor_name):
        raise ConfigError(f"remove_parametrizations: {type(module).__name__} has no "
                          f"parametrization on {tensor_name!r}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with no_grad():
                _set_tensor(original, getattr(module, tensor_name))
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = Parameter(value.detach()) if value.requires_grad else value.detach()
    else:
        raise ConfigError("remove_parametrizations: leave_parametrized=False is impossible for a "
                          "tensor parametrized by several originals (original0, original1, ...)")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_tensor(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        object.__setattr__(module, "__class__", type(module).__bases__[0])
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class as written (``Linear``), not the generated ``ParametrizedLinear``."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Register ``from_module``'s parametrizations (of ``tensor_name``, or of every parametrized
    tensor) on ``to_module`` too, creating the tensor there as a Parameter if it is missing, and
    make ``to_module``'s original(s) the same Parameter objects as ``from_module``'s (torch's);
    nothing happens when ``from_module`` is not parametrized. Returns ``to_module``."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations.keys()) if tensor_name is None else [tensor_name]
    for name in names:
        if name not in from_module.parametrizations:
            raise ConfigError(f"transfer_parametrizations_and_params: {type(from_module).__name__} has no "
                              f"parametrization on {name!r}")
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name).detach()))
        source = from_module.parametrizations[name]
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        if hasattr(source, "original"):
            target.original = source.original
        else:
            i = 0
            while hasattr(source, f"original{i}"):
                setattr(target, f"original{i}", getattr(source, f"original{i}"))
                i += 1
    return to_module
