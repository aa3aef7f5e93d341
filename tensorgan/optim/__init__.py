"""Optimizers: SGD (momentum, Nesterov, weight decay), Adam (amsgrad), AdamW and RMSprop here;
Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD and Rprop in ``adaptive.py``, LBFGS in ``lbfgs.py``,
Adafactor, Muon and SparseAdam in ``matrix.py``;
all update in place.

``step()`` works on the raw arrays (``p.array``), never building graph; Adam's common case is one
fused kernel pass per parameter (``kernels.*.adam_update``), the other paths NumPy/CuPy ufuncs. The
formulas are PyTorch's, so a tensorgan run can be checked against a PyTorch one step by step.

``state_dict()`` is plain data in PyTorch's layout: ``{"type": the optimizer's class name,
"state": {parameter index: dict of Tensors} (only parameters that have state),
"param_groups": [hyperparameters and "params", the list of the group's parameter indices]}``; it
survives a round trip through JSON + npz without pickle (``tensorgan.save`` keeps the int keys).
As torch's, its entries are references to the live state, not copies (``sd =
opt.state_dict(); opt.step()`` changes ``sd``: copy it to keep a moment's values): the Tensors
``opt.state[p]`` shows (host copies only for GPU arrays), ``step`` (and NAdam's
``mu_product``, ASGD's ``eta`` / ``mu``) live 0-d Tensors of torch's scalar dtype (float32;
float64 under ``set_default_dtype(float64)``).
``load_state_dict`` also takes a torch optimizer's state dict converted to arrays or Tensors
(``step`` a 0-d float there), and the older tensorgan layout (``"state"`` a list by position,
groups with ``"num_params"``) so earlier checkpoints resume.  ``optimizer.state`` is PyTorch's
view of the same state: ``opt.state[p]["exp_avg"]`` for a parameter ``p`` is a Tensor over the
very array the update writes in place, ``opt.state[p]["step"]`` the live 0-d float Tensor the next
step increments (empty before its first step); underneath, the update keeps raw arrays and
Python numbers until a number is handed out (see ``_StateView``).
"""
from __future__ import annotations

import contextlib
import functools
import math
import warnings
from collections.abc import MutableMapping
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..backend import as_host_array
from ..complex_ops import real_pairs
from ..errors import (CapturableDeviceError, CheckpointError, ConfigError, ConfigTypeError,
                      InputTypeError, ShapeError)
from ..kernels.reference.optim import adam_update as reference_adam_update
from ..tensor import Tensor, _caller_level, enable_grad, get_default_dtype, no_grad

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
           "RAdam", "ASGD", "Rprop", "LBFGS", "lr_scheduler", "swa_utils", "Adafactor", "Muon", "SparseAdam"]


def _check_number(owner: str, name: str, value: Any, low: float | None = None,
                   high: float | None = None, low_open: bool = False, high_open: bool = True) -> float:
    if isinstance(value, Tensor) and value.numel() == 1 and value.dtype.kind == "f":
        value = value.item()     # torch takes a one-element float tensor (lr=torch.tensor(1e-3))
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value):
        raise ConfigError(f"{owner}: {name} must be a finite number, got {value!r}")
    # kept as given where it is a Python number (torch's groups keep lr=1 an int: its repr and
    # state_dict show ``1``, ``weight_decay: 0``); NumPy scalars become Python numbers
    if isinstance(value, np.integer):
        value = int(value)
    elif not isinstance(value, (int, float)):
        value = float(value)
    if low is not None and (value < low or (low_open and value == low)):
        bound = ">" if low_open else ">="
        raise ConfigError(f"{owner}: {name} must be {bound} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        bound = "<" if high_open else "<="
        raise ConfigError(f"{owner}: {name} must be {bound} {high}, got {value}")
    return value


def _check_bool(owner: str, group: dict[str, Any], key: str) -> None:
    """``group[key]`` (False when absent) must be a bool; stored as a Python bool."""
    value = group.get(key, False)
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{owner}: {key} must be True or False, got {value!r}")
    group[key] = bool(value)


def _check_betas(owner: str, group: dict[str, Any], floats: bool = False) -> None:
    """Adam-style ``betas``: a pair in [0, 1) (torch: "Invalid beta parameter at index i"), and
    ``eps`` >= 0.  ``floats`` (Adam's and AdamW's rule in torch): both must be floats (or
    one-element Tensors), an int such as ``betas=(0, 0.99)`` is refused, and the pair is stored
    as a tuple; elsewhere (NAdam, RAdam, Adamax, ...) torch keeps the pair as given, a list
    stays a list and ``0`` an int."""
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ConfigError(f"{owner}: betas must be a pair, got {betas!r}")
    checked = [_check_number(owner, f"betas[{i}]", b, low=0.0, high=1.0)
               for i, b in enumerate(betas)]
    if floats:
        tensors = [isinstance(b, Tensor) for b in betas]
        if not (all(tensors) or all(isinstance(b, (float, np.floating)) for b in betas)):
            raise ConfigError(f"{owner}: betas must be either both floats or both Tensors, got "
                              f"{betas!r}")
        if all(tensors):      # kept as Tensors, as torch's (0-d; read at each step)
            for i, b in enumerate(betas):
                if group.get("foreach") and not group.get("capturable"):
                    raise ConfigError(f"{owner}: betas[{i}] as a Tensor is not supported for "
                                      f"capturable=False and foreach=True")
            group["betas"] = tuple(b if b.ndim == 0 else b.reshape(()) for b in betas)
        else:
            group["betas"] = tuple(float(b) for b in checked)
    else:
        group["betas"] = type(betas)(checked) if type(betas) in (tuple, list) else tuple(checked)
    group["eps"] = _check_number(owner, "eps", group["eps"], low=0.0)   # 0 allowed, as torch


def _decayed_grad(p: Tensor, grad, group: dict[str, Any]):
    """Weight decay: L2 (``grad + wd * p``), or decoupled (``p *= 1 - lr * wd``, grad unchanged)
    where the group has ``decoupled_weight_decay=True`` (NAdam, RAdam; AdamW's rule)."""
    wd = group["weight_decay"]
    if not wd:
        return grad
    if group.get("decoupled_weight_decay"):
        p.array *= p.array.dtype.type(1.0 - group["lr"] * wd)
        return grad
    return grad + wd * p.array


def _host_array(value: Any) -> np.ndarray:
    """A saved state entry as a host array: an array, a CuPy array or a Tensor (a state dict
    converted from torch's, whose entries are tensors), on any device."""
    return value.detach().numpy() if isinstance(value, Tensor) else as_host_array(value)


# torch's implementation switches in its param groups: same arithmetic, kept for torch's layout.
_TORCH_SWITCHES = ("foreach", "fused", "capturable", "differentiable")


def _check_switches(owner: str, **switches: Any) -> dict[str, Any]:
    """torch's implementation switches as constructor arguments (nanoGPT's
    ``AdamW(groups, lr=lr, betas=betas, fused=True)``, ``SGD(..., foreach=False)``): accepted
    with no effect, as tensorgan has one update per device (its fused kernel where that
    applies), so the arithmetic is the same either way; ``capturable`` (CUDA-graph capture)
    likewise on a GPU, while a step of CPU parameters refuses it as torch's does
    (:class:`~tensorgan.errors.CapturableDeviceError`, an AssertionError as torch's).  torch's
    refusals are kept: ``fused`` with ``foreach`` (or ``differentiable``); and
    ``differentiable=True`` (a step autograd can differentiate through) is refused, as
    tensorgan's step updates the raw arrays outside the graph.  ``switches``: those the
    optimizer has in torch (its keyword arguments); returned, as they go into its defaults and
    param groups as torch's (so ``repr`` and ``state_dict`` have torch's keys)."""
    foreach, fused = switches.get("foreach"), switches.get("fused")
    differentiable = switches.get("differentiable", False)
    for key, value in switches.items():
        if key in ("foreach", "fused"):
            if value is not None and not isinstance(value, (bool, np.bool_, int, np.integer)):
                raise ConfigError(f"{owner}: {key} must be None, True or False, got {value!r}")
        elif not isinstance(value, (bool, np.bool_, int, np.integer)):
            raise ConfigError(f"{owner}: {key} must be True or False, got {value!r}")
    if fused and foreach:
        raise ConfigError(f"{owner}: `fused` and `foreach` cannot be `True` together.")
    if fused and differentiable:
        raise ConfigError(f"{owner}: `fused` does not support `differentiable`")
    if differentiable:
        raise ConfigError(f"{owner}: differentiable=True (an optimizer step that autograd can "
                          f"differentiate through) is not supported: tensorgan's step updates "
                          f"the parameters outside the autograd graph")
    return switches


def _refuse_capturable(owner: str) -> None:
    """torch's check at the step: ``capturable=True`` (CUDA-graph capture) needs the parameters
    on an accelerator; torch raises AssertionError, hence the error's second base."""
    raise CapturableDeviceError(
        f"{owner}: If capturable=True, params and state_steps must be on supported devices: "
        f"['cuda'] (capturable=True is for CUDA-graph capture; this parameter is on the CPU: "
        f"leave capturable False there)")


def _saved_number(owner: str, key: str, index: int, value: Any) -> Any:
    """A saved scalar state entry as a Python number: torch keeps ``step`` (and NAdam's
    ``mu_product``, ASGD's ``eta`` / ``mu``) as 0-d float tensors, so after conversion a 0-d
    array or Tensor arrives here."""
    if isinstance(value, Tensor) or isinstance(value, np.ndarray) \
            or hasattr(value, "__cuda_array_interface__"):
        arr = _host_array(value)
        if arr.size != 1:
            raise CheckpointError(f"{owner} state {key!r} of parameter {index} must be a number, "
                                  f"got an array of shape {arr.shape}")
        value = arr.reshape(()).item()
    if isinstance(value, np.generic):
        value = value.item()
    if key == "step":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value < 0 or value != int(value):
            raise CheckpointError(f"{owner} state 'step' of parameter {index} must be a whole "
                                  f"number >= 0, got {value!r}")
    return value


def _host_copy(value: Any) -> Any:
    if value is None or isinstance(value, (int, float)):
        return value
    return value.copy() if isinstance(value, np.ndarray) else value.get()  # cupy -> host


def _scalar_dtype() -> np.dtype:
    """torch's ``_get_scalar_dtype()``: the dtype of ``step`` and the other scalar state (NAdam's
    ``mu_product``, ASGD's ``eta`` / ``mu``): float64 under ``set_default_dtype(float64)``, else
    float32."""
    return np.dtype(np.float64) if get_default_dtype() == np.float64 else np.dtype(np.float32)


def _bump_step(state: dict[str, Any]) -> int:
    """``step += 1`` and the new count, as an int.  ``state["step"]`` is a Python int until
    ``opt.state[p]["step"]`` or ``state_dict()`` hands it out as torch's 0-d float Tensor; from
    then on it is that Tensor's array, counted in place so the Tensor stays live."""
    t = state["step"]
    if t.__class__ is int:
        state["step"] = t = t + 1
        return t
    n = t.item() + 1       # then stored in place: ~0.1 us, where NumPy's 0-d ``t += 1`` takes ~1
    t[()] = n
    return int(n)


def _put_scalar(state: dict[str, Any], key: str, value: float) -> float:
    """Store scalar state ``key`` (NAdam's ``mu_product``, ASGD's ``eta`` / ``mu``) rounded to
    torch's scalar dtype -- into its live 0-d array where one was handed out -- and return it."""
    held = state.get(key)
    if isinstance(held, np.ndarray):
        held[()] = value
        return float(held)
    state[key] = value = float(_scalar_dtype().type(value))
    return value


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__")


class _StateView(MutableMapping):
    """``optimizer.state[p]``: one parameter's state as torch shows it -- each state array as a
    Tensor wrapping the very array the update writes in place (no copy; the wrapper is made on
    first access and kept while the array is the same), ``step`` (and NAdam's ``mu_product``,
    ASGD's ``eta`` / ``mu``) as a 0-d float Tensor of torch's scalar dtype (on the CPU, as
    torch's).  Underneath, the optimizer keeps plain arrays and Python numbers, so ``step()``
    pays nothing for this view -- until a number is read here (or by ``state_dict()``): it
    then becomes a 0-d array under the Tensor handed out, which the update counts in place
    (``_bump_step``), so the Tensor is live as torch's (``s = opt.state[p]["step"]; opt.step()``
    moves ``s``).  Writes store arrays under the Tensor (the same memory where dtype and device
    match), a 0-d float Tensor for ``step`` as it is (live), other numbers as numbers, so the
    update still finds what it expects; a subclass that brings its own ``step()`` (a
    torch-style custom optimizer) stores what it writes as it is."""

    __slots__ = ("_optimizer", "_index", "_tensors")

    def __init__(self, optimizer: "Optimizer", index: int):
        self._optimizer, self._index = optimizer, index
        self._tensors: dict[str, Tensor] = {}

    def _raw(self) -> dict[str, Any] | None:
        return self._optimizer._states[self._index]

    def _visible(self, raw: dict[str, Any]) -> list[str]:
        hidden = self._optimizer._hidden_state_keys
        return [k for k, v in raw.items() if v is not None and k not in hidden]

    def __getitem__(self, key: str) -> Any:
        raw = self._raw()
        if raw is None or raw.get(key) is None or key in self._optimizer._hidden_state_keys:
            raise KeyError(key)
        value = raw[key]
        cached = self._tensors.get(key)
        if self._optimizer._scalar_state(key):
            # torch's live 0-d float tensor: from here on the update counts in this very array
            # (``_bump_step``), so the Tensor follows later steps as torch's does
            if not isinstance(value, np.ndarray):
                value = raw[key] = np.array(value, dtype=_scalar_dtype())
            if cached is None or cached.array is not value:
                cached = self._tensors[key] = Tensor._from(value, device="cpu")
            return cached
        if _is_array(value):
            if cached is None or cached.array is not value:
                p = self._optimizer._params()[self._index]
                cached = self._tensors[key] = Tensor._from(value, device=p.device)
            return cached
        if isinstance(value, list) and value and all(_is_array(v) for v in value):
            p = self._optimizer._params()[self._index]     # LBFGS's history: a list of Tensors
            return [Tensor._from(v, device=p.device) for v in value]
        if key in self._optimizer._tensor_number_keys and isinstance(value, float):
            p = self._optimizer._params()[self._index]     # LBFGS's H_diag: a 0-d Tensor
            return Tensor._from(p.device.xp.asarray(value, dtype=p.dtype), device=p.device)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        opt = self._optimizer
        if opt._states[self._index] is None:      # a built-in's fresh state, so step() finds it
            opt._states[self._index] = (opt._new_state(self._index, opt._params()[self._index])
                                        if opt._builtin_update() else {})
        raw = opt._states[self._index]
        self._tensors.pop(key, None)
        if not opt._builtin_update():          # a custom optimizer's own state: kept as written
            raw[key] = value
            return
        name, p = type(opt).__name__, opt._params()[self._index]
        if key in opt.state_keys + opt.optional_state_keys and value is not None:
            arr = value.array if isinstance(value, Tensor) else value
            arr = p.device.xp.asarray(arr, dtype=p.dtype)      # the same array where it can be
            wanted = opt._state_shape(p, key)
            if arr.shape != wanted:
                raise ShapeError(f"{name}.state[p][{key!r}] must have shape {wanted} (the "
                                 f"parameter has {p.shape}), got {arr.shape}")
            raw[key] = arr
            if isinstance(value, Tensor) and value.array is arr:
                self._tensors[key] = value
        elif key == "step" or key in opt.scalar_state_keys:
            number = _saved_number(name, key, self._index, value)
            if isinstance(value, Tensor) and isinstance(value.array, np.ndarray) \
                    and value.array.shape == () and value.array.dtype.kind == "f":
                raw[key] = value.array          # torch's own 0-d tensor: kept, and live
                self._tensors[key] = value
            else:
                raw[key] = int(number) if key == "step" else float(number)
        else:
            raw[key] = value

    def __delitem__(self, key: str) -> None:
        raw = self._raw()
        if raw is None or key not in raw:
            raise KeyError(key)
        del raw[key]
        self._tensors.pop(key, None)

    def __iter__(self):
        raw = self._raw()
        return iter([] if raw is None else self._visible(raw))

    def __len__(self) -> int:
        raw = self._raw()
        return 0 if raw is None else len(self._visible(raw))

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class ParamState:
    """``optimizer.state``: each parameter's state, looked up by the parameter itself (as in
    PyTorch: ``opt.state[p]["exp_avg"]``, a Tensor; empty before its first step) or by its
    position among the optimizer's parameters (``opt.state[0]``: the state, or None before its
    first step).  Each state is a :class:`_StateView` (Tensors over the arrays the update
    writes).  Iterating gives the parameters that have state."""

    def __init__(self, optimizer: "Optimizer"):
        self._optimizer = optimizer

    def _position(self, p: Tensor) -> int:
        for i, q in enumerate(self._optimizer._params()):
            if q is p:
                return i
        raise KeyError(f"{type(self._optimizer).__name__}.state: this tensor (shape {p.shape}) is "
                       f"not one of the optimizer's parameters")

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, Tensor):
            return self._optimizer._state_view(self._position(key))
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            index = int(key)
            if self._optimizer._states[index] is None:
                return None
            return self._optimizer._state_view(index % len(self._optimizer._states))
        raise InputTypeError(f"{type(self._optimizer).__name__}.state: index it with a parameter "
                             f"or its position, got {type(key).__name__}")

    def __contains__(self, key: Any) -> bool:
        try:
            return isinstance(key, Tensor) and len(self[key]) > 0
        except KeyError:
            return False

    def items(self) -> list[tuple[Tensor, Any]]:
        opt = self._optimizer
        out = [(p, opt._state_view(i)) for i, (p, s) in enumerate(zip(opt._params(), opt._states))
               if s is not None]
        out = [(p, v) for p, v in out if len(v)]
        if getattr(opt, "_has_duplicates", False):   # a dict by parameter, as torch's
            seen: set = set()
            out = [(p, s) for p, s in out if not (id(p) in seen or seen.add(id(p)))]
        return out

    def keys(self) -> list[Tensor]:
        return [p for p, _ in self.items()]

    def values(self) -> list[Any]:
        return [s for _, s in self.items()]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.items())

    def __repr__(self) -> str:
        return f"<state of {len(self)} of {len(self._optimizer._states)} parameters>"


def _recording_call(step: Callable[..., Any]) -> Callable[..., Any]:
    """An Optimizer subclass's ``step`` that also marks the optimizer as stepped."""
    @functools.wraps(step)
    def wrapper(self: "Optimizer", *args: Any, **kwargs: Any) -> Any:
        self._opt_called = True
        return step(self, *args, **kwargs)
    wrapper._records_call = True     # type: ignore[attr-defined]
    return wrapper


class Optimizer:
    """Holds parameter groups and per-parameter state; subclasses implement ``_update``."""

    defaults: dict[str, Any]
    state_keys: tuple[str, ...] = ()           # arrays every parameter's state must have
    optional_state_keys: tuple[str, ...] = ()  # arrays it may have
    scalar_state_keys: tuple[str, ...] = ()    # numbers it must have (NAdam's mu_product, ...)
    _decoupled = False                         # weight decay as AdamW's (torch's group flag)
    _hidden_state_keys: tuple[str, ...] = ()   # kept here, absent from torch's state (SGD's step)
    _tensor_number_keys: tuple[str, ...] = ()  # floats torch's state shows as 0-d Tensors (a copy)
    _torch_key_order: tuple[str, ...] = ()     # torch's order of the defaults' keys
    _opt_called = False                        # step() ran since a scheduler was made on it

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass's own step() (LBFGS's, a user's) still records that it ran, for the
        # lr schedulers' order warning (torch wraps optimizer.step for it)
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__ and not getattr(cls.__dict__["step"], "_records_call", False):
            cls.step = _recording_call(cls.__dict__["step"])

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        # torch's key order for the groups (state_dict()["param_groups"], iterating a group)
        order = self._torch_key_order
        self.defaults = {**{k: defaults[k] for k in order if k in defaults}, **defaults}
        name = type(self).__name__
        # (ConfigTypeError: a TypeError, as torch's for a Tensor, a Module or a non-iterable)
        if isinstance(params, Tensor) or callable(getattr(params, "parameters", None)):
            raise ConfigTypeError(f"{name} takes an iterable of Parameters: pass "
                                  f"model.parameters(), not the {type(params).__name__} itself")
        try:
            groups = list(params)
        except TypeError:
            raise ConfigTypeError(f"{name} takes an iterable of Parameters (e.g. "
                                  f"model.parameters()), got {type(params).__name__}") from None
        if not groups:
            raise ConfigError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups: list[dict[str, Any]] = []
        for group in groups:
            self.add_param_group(group)
        # Per-parameter state by position; ``self.state`` is the view PyTorch code expects.
        self._states: list[dict[str, Any] | None] = [None] * len(self._params())
        self.state = ParamState(self)

    def add_param_group(self, group: dict[str, Any]) -> None:
        if not isinstance(group, dict) or "params" not in group:
            raise ConfigError(f"{type(self).__name__}: a parameter group must be a dict with a "
                              f"'params' entry, got {group!r:.60}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:   # as in PyTorch: a TypeError for a non-Tensor, a ValueError for a non-leaf
            if not isinstance(p, Tensor):
                raise InputTypeError(f"{type(self).__name__} can only optimize Tensors "
                                     f"(Parameters), got {type(p).__name__}")
            if not p.is_leaf:
                raise ConfigError(f"{type(self).__name__} can only optimize leaf tensors "
                                  f"(Parameters), got the result of an operation")
        seen = {id(p) for p in self._params()}
        if any(id(p) in seen for p in params):
            raise ConfigError(f"{type(self).__name__}: a parameter appears in more than one group")
        if len({id(p) for p in params}) != len(params):
            # torch warns and keeps them: each listing is stepped, one after the other, on one
            # shared state (UNIT's itertools.chain over two encoders with a shared block).
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see github.com/pytorch/pytorch/"
                          "issues/40967 for more information", UserWarning, stacklevel=_caller_level())
            self._has_duplicates = True
        merged = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        self._validate(merged)
        merged["params"] = params
        self.param_groups.append(merged)
        if hasattr(self, "_states"):
            self._states.extend([None] * len(params))

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def _state_view(self, index: int) -> _StateView:
        """Position ``index``'s torch-style state view (one per position, made on first use)."""
        views = self.__dict__.setdefault("_state_views", {})
        view = views.get(index)
        if view is None:
            view = views[index] = _StateView(self, index)
        return view

    def _builtin_update(self) -> bool:
        """Whether this optimizer's step is the base class's over ``_update`` (a built-in one,
        whose state layout is known), not a subclass's own ``step()``."""
        return type(self)._update is not Optimizer._update

    def _scalar_state(self, key: str) -> bool:
        """Whether state entry ``key`` is a number torch keeps as a 0-d float Tensor."""
        return self._builtin_update() and (key == "step" or key in self.scalar_state_keys)

    def _public_saved(self, key: str, value: Any) -> Any:
        """A state entry as ``state_dict()`` gives it, from the state view (``opt.state[p]``):
        as torch's, the very Tensors the state holds -- so a later ``step()`` shows in an
        earlier ``state_dict()``, and ``step`` is the live 0-d Tensor -- except that an array on
        a GPU is given as a CPU Tensor over a host copy."""
        if isinstance(value, Tensor):
            return value if isinstance(value.array, np.ndarray) \
                else Tensor._from(_host_array(value).copy(), device="cpu")
        if _is_array(value):
            return Tensor._from(_host_copy(value), device="cpu")
        return value

    def _validate(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        lr = group["lr"]
        # a restored group may hold an lr below 0 that a scheduler set (a cosine chain can go
        # there, in torch too); refusing it would refuse this optimizer's own checkpoint
        lr_low = None if getattr(self, "_restoring", False) else 0.0
        if isinstance(lr, Tensor):      # torch keeps a Tensor lr as given (a scheduler fills it)
            if lr.numel() != 1:
                raise ConfigError(f"{name}: Tensor lr must be 1-element, got shape {tuple(lr.shape)}")
            if name in ("Adam", "AdamW") and group.get("foreach") and not group.get("capturable"):
                raise ConfigError(f"{name}: lr as a Tensor is not supported for capturable=False "
                                  f"and foreach=True")
            _check_number(name, "lr", lr.item(), low=lr_low)
        else:
            group["lr"] = _check_number(name, "lr", lr, low=lr_low)
        if "weight_decay" in group:     # Rprop and LBFGS have none
            group["weight_decay"] = _check_number(name, "weight_decay", group["weight_decay"], low=0.0)
        if "maximize" in self.defaults:  # LBFGS has none
            _check_bool(name, group, "maximize")
        present = {k: group[k] for k in _TORCH_SWITCHES if k in group}
        if present:
            _check_switches(name, **present)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none=False``: fill it with zeros instead)."""
        for p in self._params():
            p.zero_grad(set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient (under no graph: raw arrays).
        ``closure`` (as in PyTorch): re-evaluates the model and returns the loss, which step
        returns; it runs with gradients enabled, before the update."""
        self._opt_called = True
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._step()
        return loss

    def _step(self) -> None:
        i = 0
        for group in self.param_groups:
            if isinstance(group["lr"], Tensor):        # a Tensor lr: its value now (a scheduler
                group = {**group, "lr": group["lr"].item()}     # may have filled it in place)
            betas = group.get("betas")
            if betas is not None and (isinstance(betas[0], Tensor) or isinstance(betas[1], Tensor)):
                group = {**group, "betas": tuple(b.item() if isinstance(b, Tensor) else b  # Tensor
                                                 for b in betas)}                  # betas: now's
            capturable = group.get("capturable")
            for p in group["params"]:
                if p.grad is not None:
                    if capturable and p.device.type == "cpu":
                        _refuse_capturable(type(self).__name__)
                    if self._states[i] is None:
                        self._states[i] = self._new_state(i, p)
                    grad = -p.grad.array if group.get("maximize") else p.grad.array   # ascend, as torch
                    if p.array.dtype.kind != "c":
                        self._update(p, grad, self._states[i], group)
                    else:
                        self._complex_update(p, grad, self._states[i], group)
                    p._bump_version()   # a graph that used the old values now refuses backward
                i += 1

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        return {"step": 0}

    def _complex_update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        """A complex parameter's update as torch's: ``_update`` of its view_as_real pairs (its
        gradient's and its complex state arrays' pairs too, sharing their memory), so that
        Adam's second moments are per real and imaginary part (not ``g * g``, which is complex);
        state arrays the update creates or replaces are kept as complex views of their pairs."""
        pairs = {k: real_pairs(v) for k, v in state.items()
                 if _is_array(v) and v.dtype.kind == "c" and v.shape == p.array.shape}
        view = {**state, **pairs}
        self._update(Tensor._make(real_pairs(p.array), p.device), real_pairs(grad), view, group)
        shape = p.array.shape + (2,)
        for k, v in view.items():
            if k in pairs and v is pairs[k]:
                continue                         # updated in place through its pairs
            if _is_array(v) and v.dtype.kind == "f" and v.shape == shape and v.ndim:
                v = p.device.xp.ascontiguousarray(v).view(p.array.dtype)[..., 0]
            state[k] = v

    def _new_state(self, i: int, p: Tensor) -> dict[str, Any]:
        """Position ``i``'s first state: a parameter listed twice shares its earlier listing's."""
        if getattr(self, "_has_duplicates", False):
            for j, q in enumerate(self._params()[:i]):
                if q is p and self._states[j] is not None:
                    return self._states[j]
        return self._init_state(p)

    def _state_shape(self, p: Tensor, key: str) -> tuple:
        """The shape of state array ``key`` for parameter ``p`` (checked on load): p's own."""
        return p.shape

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The per-parameter state plus the hyperparameters, as plain data, in PyTorch's layout:
        ``"state"`` maps a parameter's index to its state (only parameters that have state),
        each group's ``"params"`` lists its parameters' indices.  As torch's, the state entries
        are references, not copies: the Tensors ``opt.state[p]`` shows (over the arrays the
        update writes in place; host copies for GPU arrays), ``step`` the live 0-d Tensor."""
        state = {}
        for i, s in enumerate(self._states):
            if s is not None:
                view = self._state_view(i)
                entry = {k: self._public_saved(k, view[k]) for k in view}
                if entry:                        # torch: no entry for an empty state
                    state[i] = entry
        groups, start = [], 0
        for pg in self.param_groups:
            g = {k: v for k, v in pg.items() if k != "params"}     # betas a tuple, as torch's
            g["params"] = list(range(start, start + len(pg["params"])))
            start += len(pg["params"])
            groups.append(g)
        return {"type": type(self).__name__, "state": state, "param_groups": groups}

    def _saved_layout(self, state_dict: Any) -> tuple[list[Any], list[dict[str, Any]]]:
        """``state_dict``'s per-parameter states as a list by this optimizer's parameter
        positions (None: no state) and its groups, after the checks that need no arrays.

        Takes PyTorch's layout (``"state"`` a dict keyed by the indices listed in the groups'
        ``"params"``, as ``torch.optim`` writes it -- keys may be strings after JSON -- and no
        ``"type"``) and tensorgan's older one (``"state"`` a list by position, groups with
        ``"num_params"``), so checkpoints written before still resume."""
        name = type(self).__name__
        states, groups = self._saved_states_and_groups(state_dict)
        n_params = len(self._params())
        if isinstance(states, (list, tuple)):
            if len(states) != n_params:
                raise CheckpointError(f"{name} state has {len(states)} parameters, this optimizer "
                                      f"has {n_params}")
            return list(states), groups
        if not isinstance(states, dict):
            raise CheckpointError(f"{name} state is malformed: 'state' must be a dict keyed by "
                                  f"parameter index, got {type(states).__name__}")
        return self._states_by_position(states, self._saved_positions(groups)), groups

    def _saved_states_and_groups(self, state_dict: Any) -> tuple[Any, list[Any]]:
        """``state_dict``'s "state" and "param_groups", checked to be this optimizer's type and
        to hold as many groups of as many parameters as it has."""
        name = type(self).__name__
        try:
            states, groups = state_dict["state"], list(state_dict["param_groups"])
            saved_type = state_dict.get("type", name)
        except (KeyError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"{name} state is malformed: missing {exc}") from None
        if saved_type != name:
            raise CheckpointError(f"optimizer state is for {saved_type}, this optimizer is {name}")
        if not all(isinstance(g, dict) for g in groups):
            raise CheckpointError(f"{name} state is malformed: param_groups must be dicts")
        sizes = [len(g["params"]) if isinstance(g.get("params"), (list, tuple))
                 else int(g.get("num_params", -1)) for g in groups]
        if len(groups) != len(self.param_groups) or any(
                n != len(pg["params"]) for n, pg in zip(sizes, self.param_groups)):
            raise CheckpointError(f"{name} state has {max(sum(sizes), 0)} parameters in "
                                  f"{len(groups)} groups of sizes {sizes}, this optimizer has "
                                  f"{len(self._params())} in {len(self.param_groups)} of sizes "
                                  f"{[len(pg['params']) for pg in self.param_groups]}")
        return states, groups

    def _saved_positions(self, groups: list[dict[str, Any]]) -> dict[int, int]:
        """PyTorch's layout: each saved parameter index (the groups' "params") -> this
        optimizer's (first) position of that parameter."""
        name = type(self).__name__
        position: dict[int, int] = {}
        params, k = self._params(), 0
        for g in groups:
            ids = g.get("params")
            if not isinstance(ids, (list, tuple)):
                raise CheckpointError(f"{name} state is malformed: with 'state' a dict, each "
                                      f"group needs its 'params' indices")
            for saved_id in ids:
                # torch lists a twice-given parameter's index twice (one state): accepted where
                # this optimizer has the same parameter at both places
                if isinstance(saved_id, bool) or not isinstance(saved_id, (int, np.integer)) \
                        or (int(saved_id) in position and params[position[int(saved_id)]] is not params[k]):
                    raise CheckpointError(f"{name} state: parameter index {saved_id!r} in "
                                          f"param_groups is not an int or appears twice")
                position.setdefault(int(saved_id), k)
                k += 1
        return position

    def _states_by_position(self, states: dict, position: dict[int, int]) -> list[Any]:
        """PyTorch's ``"state"`` dict (keys: saved indices, maybe strings after JSON) as a list
        by this optimizer's positions, None where a parameter has no state."""
        name = type(self).__name__
        out: list[Any] = [None] * len(self._params())
        for key, s in states.items():
            try:
                index = int(key)
                if isinstance(key, bool) or str(index) != str(key).strip():
                    raise ValueError
            except (TypeError, ValueError):
                raise CheckpointError(f"{name} state key {key!r} is not a parameter index") from None
            if index not in position:
                raise CheckpointError(f"{name} state has an entry for parameter index {index}, "
                                      f"which no param_group lists")
            if not isinstance(s, dict):
                raise CheckpointError(f"{name} state of parameter {index} must be a dict, got "
                                      f"{type(s).__name__}")
            out[position[index]] = s
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output -- or a PyTorch optimizer's state dict converted to
        arrays / Tensors (its ``step`` and scalar entries may be 0-d arrays or Tensors; its
        implementation switches ``foreach`` / ``fused`` / ``capturable`` / ``differentiable``
        are kept where this optimizer has them in torch, dropped elsewhere).  Everything is
        checked before anything changes."""
        name = type(self).__name__
        states, groups = self._saved_layout(state_dict)
        params = self._params()
        new_states: list[dict[str, Any] | None] = []
        shared: list[dict[str, Tensor]] = []     # per position: the saved Tensors now the state
        for i, (p, s) in enumerate(zip(params, states)):
            shared.append({})
            if s is not None and not isinstance(s, dict):
                raise CheckpointError(f"{name} state of parameter {i} must be a dict or None, got "
                                      f"{type(s).__name__}")
            new_states.append(None if s is None else self._restored_state(i, p, s, shared[i]))
        new_groups = self._restored_groups(groups)
        if getattr(self, "_has_duplicates", False):     # a twice-listed parameter: one state
            first: dict[int, int] = {}
            for i, p in enumerate(params):
                j = first.setdefault(id(p), i)
                new_states[i] = new_states[j]
        self._states, self.param_groups = new_states, new_groups
        self.__dict__.pop("_state_views", None)          # state views over the new arrays,
        for i, tensors in enumerate(shared):             # handing out the shared Tensors
            if tensors:
                self._state_view(i)._tensors.update(tensors)

    def _restored_state(self, i: int, p: Tensor, s: dict[str, Any],
                        shared: dict[str, Tensor]) -> dict[str, Any]:
        """Parameter ``i``'s saved state as this optimizer keeps it: ``step`` a number, the
        scalar and array entries checked (arrays on p's device in p's dtype), other entries as
        torch restores them; ``shared`` gets the saved Tensors the state now uses as they are."""
        name = type(self).__name__
        if not self._builtin_update():
            # a user's optimizer with its own step(): every key comes back, as torch's
            # load_state_dict restores them (Tensors on the parameter's device, floating
            # ones in its dtype; ``step`` and non-Tensors as saved)
            return {k: self._restored_entry(p, k, v) for k, v in s.items()}
        entry = {"step": int(_saved_number(name, "step", i, s.get("step", 0)))}
        step = s.get("step")
        if isinstance(step, Tensor) and isinstance(step.array, np.ndarray) \
                and step.array.shape == () and step.array.dtype.kind == "f":
            entry["step"], shared["step"] = step.array, step   # torch's: kept, not copied
        for key in self.scalar_state_keys:
            if key not in s:
                raise CheckpointError(f"{name} state of parameter {i} lacks {key!r}")
            entry[key] = _check_number(name, f"state {key!r} of parameter {i}",
                                       _saved_number(name, key, i, s[key]))
        for key in self.state_keys + self.optional_state_keys:
            if key not in s or s[key] is None:
                if key in self.optional_state_keys:
                    continue
                raise CheckpointError(f"{name} state of parameter {i} lacks {key!r}")
            self._restore_array(i, p, key, s[key], entry, shared)
        # entries a user put in the state (an EMA wrapper's ``state[p]["ema"]``, Lookahead's
        # slow weights, ...): restored too, as torch's load_state_dict restores every key
        for key, value in s.items():
            if key not in entry and key not in self._hidden_state_keys and not (
                    key in self.state_keys or key in self.optional_state_keys):
                entry[key] = self._restored_entry(p, key, value)
        return entry

    def _restore_array(self, i: int, p: Tensor, key: str, value: Any, entry: dict[str, Any],
                       shared: dict[str, Tensor]) -> None:
        """``entry[key]``: the saved array state checked for shape, as p's dtype on p's device."""
        arr, wanted = _host_array(value), self._state_shape(p, key)
        if arr.shape != wanted:
            raise CheckpointError(f"{type(self).__name__} state {key!r} of parameter {i} has shape "
                                  f"{arr.shape}, expected {wanted} (the parameter has {p.shape})")
        if isinstance(value, Tensor) and value.device == p.device and value.dtype == p.dtype:
            # torch's load_state_dict casts with .to(p's dtype and device), which is the
            # saved Tensor itself where they match: the two optimizers share it
            entry[key], shared[key] = value.array, value
        else:
            entry[key] = p.device.xp.asarray(arr, dtype=p.dtype).copy()

    def _restored_groups(self, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The saved groups' hyperparameters over the live groups (same parameters), each
        merged group validated as a constructor argument would be."""
        new_groups = []
        for g, pg in zip(groups, self.param_groups):
            merged = {**pg, **{k: v for k, v in g.items() if k not in ("params", "num_params")
                               and (k not in _TORCH_SWITCHES or k in self.defaults)}}
            self._check_torch_group(merged)
            self._restoring = True
            try:
                self._validate(merged)
            finally:
                del self._restoring
            new_groups.append(merged)
        return new_groups

    @staticmethod
    def _restored_entry(p: Tensor, key: str, value: Any) -> Any:
        """A custom optimizer's saved state entry, cast as torch's ``load_state_dict`` casts it:
        a Tensor (or array) goes to ``p``'s device -- in ``p``'s dtype where both are floating
        -- as a copy, unless it is already there (then the Tensor itself, shared, as torch's
        ``.to`` returns it); ``step`` and everything else is kept as saved."""
        if key == "step" or not (isinstance(value, Tensor) or _is_array(value)):
            return value
        if isinstance(value, Tensor) and value.device == p.device and (
                value.dtype == p.dtype or value.dtype.kind != "f" or np.dtype(p.dtype).kind != "f"):
            return value                # .to(p's dtype / device) is the Tensor itself: shared
        arr = _host_array(value)
        dtype = p.dtype if arr.dtype.kind == "f" and np.dtype(p.dtype).kind == "f" else arr.dtype
        return Tensor._from(p.device.xp.array(arr, dtype=dtype), device=p.device)

    def _check_torch_group(self, group: dict[str, Any]) -> None:
        """A PyTorch group's ``decoupled_weight_decay`` (Adam's and RAdam's / NAdam's flag) where
        this optimizer has no such switch: accepted where it says what this optimizer does."""
        if "decoupled_weight_decay" in group and "decoupled_weight_decay" not in self.defaults:
            flag = group.pop("decoupled_weight_decay")
            if bool(flag) != self._decoupled:
                raise CheckpointError(
                    f"{type(self).__name__} state has decoupled_weight_decay={flag!r}: it was "
                    f"saved by {'AdamW' if flag else 'Adam'}, load it into that optimizer")

    def __repr__(self) -> str:
        """torch's layout: each parameter group's options, sorted by name, one a line."""
        out = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            out += "".join(f"    {k}: {group[k]}\n" for k in sorted(group) if k != "params")
        return out + ")"


class SGD(Optimizer):
    """``g = grad + wd * p``; with momentum ``buf = momentum * buf + (1 - dampening) * g`` (``buf = g``
    on the first step) and ``g = buf`` (or ``g + momentum * buf`` with nesterov); ``p -= lr * g``."""

    _torch_key_order = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize",
                        "foreach", "differentiable", "fused")

    optional_state_keys = ("momentum_buffer",)  # absent until a step with momentum > 0
    _hidden_state_keys = ("step",)             # counted here; torch's SGD keeps no step

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None):
        switches = _check_switches("SGD", foreach=foreach, fused=fused,
                                   differentiable=differentiable)
        super().__init__(params, dict(
            **switches, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=bool(nesterov), maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        group["momentum"] = _check_number("SGD", "momentum", group["momentum"], low=0.0, high=1.0,
                                          high_open=False)
        group["dampening"] = _check_number("SGD", "dampening", group["dampening"], low=0.0, high=1.0,
                                           high_open=False)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ConfigError("SGD: nesterov needs momentum > 0 and dampening 0")

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        return {"step": 0, "momentum_buffer": None}

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd:
            grad = grad + wd * p.array
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                # xp.array, not grad.copy(): a 0-d parameter's grad may be a NumPy scalar here
                # (``-g``, ``g + wd * p``), whose copy is no buffer for the in-place updates
                buf = state["momentum_buffer"] = p.device.xp.array(grad)
            else:
                buf *= momentum
                buf += (1.0 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        _bump_step(state)
        p.array -= lr * grad

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for s in self._states:
            if s is not None:
                s.setdefault("momentum_buffer", None)


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's formulation::

        g = grad + wd * p
        m = b1 * m + (1 - b1) * g            v = b2 * v + (1 - b2) * g^2
        p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    ``amsgrad=True``: ``v_max = max(v_max, v)`` takes v's place in the last line (Reddi et al.)."""

    _torch_key_order = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "foreach",
                        "capturable", "differentiable", "fused", "decoupled_weight_decay")

    state_keys = ("exp_avg", "exp_avg_sq")
    optional_state_keys = ("max_exp_avg_sq",)   # with amsgrad: the running maximum of exp_avg_sq

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False):
        name = type(self).__name__
        switches = _check_switches(name, foreach=foreach, fused=fused, capturable=capturable,
                                   differentiable=differentiable)
        if not isinstance(decoupled_weight_decay, (bool, np.bool_)):
            raise ConfigError(f"{name}: decoupled_weight_decay must be True or False, got "
                              f"{decoupled_weight_decay!r}")
        # torch: Adam(decoupled_weight_decay=True) is AdamW (AdamW's own default: True)
        decoupled = bool(decoupled_weight_decay) or self._decoupled
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled, **switches))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_betas(type(self).__name__, group, floats=True)
        _check_bool(type(self).__name__, group, "amsgrad")
        _check_bool(type(self).__name__, group, "decoupled_weight_decay")

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        xp = p.device.xp
        return {"step": 0, "exp_avg": xp.zeros_like(p.array), "exp_avg_sq": xp.zeros_like(p.array)}

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = p.device.xp
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd:
            if group["decoupled_weight_decay"]:     # AdamW's rule (its default)
                p.array *= p.array.dtype.type(1.0 - lr * wd)
            else:
                grad = grad + wd * p.array
        t = state["step"]
        if t.__class__ is int:
            state["step"] = t = t + 1
        else:                 # the live 0-d array torch's state["step"] Tensor shows
            n = t.item() + 1  # (``_bump_step``, inline: the benchmarked GAN step)
            t[()] = n
            t = int(n)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if group["amsgrad"]:       # no fused variant: the reference's ufuncs with the maximum
            max_v = state.get("max_exp_avg_sq")
            if max_v is None:      # zeros, as PyTorch starts it (also after a non-amsgrad state)
                max_v = state["max_exp_avg_sq"] = xp.zeros_like(v)
            _reference_adam(p.array, grad, m, v, lr, b1, b2, eps, t, xp, max_v)
            return
        if _fused_adam_applies(p.array, grad, m, v):
            # The device's fused kernel: one pass over p, grad, m, v (one launch on a GPU) instead
            # of the ufunc sequence's thirteen; on the CPU bit-identical to it.
            p.device.kernels.adam_update(p.array.reshape(-1), grad.reshape(-1), m.reshape(-1),
                                         v.reshape(-1), lr, b1, b2, eps, t)
            return
        # Any layout: the reference's ufunc sequence, on the device's array module.
        _reference_adam(p.array, grad, m, v, lr, b1, b2, eps, t, xp)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's ``AdamW``::

        p *= 1 - lr * wd                     (the decay does not pass through m and v)
        then Adam's update with g = grad

    ``weight_decay`` defaults to 1e-2, as in PyTorch."""

    _decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused)


class RMSprop(Optimizer):
    """RMSprop, PyTorch's formulation (``alpha`` is the smoothing constant)::

        g = grad + wd * p
        v = alpha * v + (1 - alpha) * g^2
        centered:  g_avg = g_avg + (1 - alpha) * (g - g_avg);  d = sqrt(v - g_avg^2) + eps
        else:      d = sqrt(v) + eps
        momentum:  buf = momentum * buf + g / d;  p -= lr * buf
        else:      p -= lr * g / d

    ``v``, ``g_avg`` and ``buf`` start at zero (state ``square_avg``, ``grad_avg``,
    ``momentum_buffer``)."""

    _torch_key_order = ("lr", "momentum", "alpha", "eps", "centered", "weight_decay", "capturable",
                        "foreach", "maximize", "differentiable")

    state_keys = ("square_avg",)
    optional_state_keys = ("momentum_buffer", "grad_avg")   # with momentum > 0 / centered

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False):
        switches = _check_switches("RMSprop", foreach=foreach, capturable=capturable,
                                   differentiable=differentiable)
        super().__init__(params, dict(
            **switches, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
            centered=centered, maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        group["alpha"] = _check_number("RMSprop", "alpha", group["alpha"], low=0.0, high=1.0,
                                       high_open=False)
        group["eps"] = _check_number("RMSprop", "eps", group["eps"], low=0.0)
        group["momentum"] = _check_number("RMSprop", "momentum", group["momentum"], low=0.0)
        _check_bool("RMSprop", group, "centered")

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        return {"step": 0, "square_avg": p.device.xp.zeros_like(p.array)}

    def _update(self, p: Tensor, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp, one = p.device.xp, p.array.dtype.type(1.0)
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        if wd:
            grad = grad + wd * p.array
        _bump_step(state)
        v = state["square_avg"]
        v *= alpha
        v += (one - alpha) * (grad * grad)
        if group["momentum"] > 0 and state.get("momentum_buffer") is None:
            state["momentum_buffer"] = xp.zeros_like(p.array)    # before grad_avg: torch's key order
        if group["centered"]:    # created on first use, so a group switched to centered works too
            g_avg = state.get("grad_avg")
            if g_avg is None:
                g_avg = state["grad_avg"] = xp.zeros_like(p.array)
            g_avg += (one - alpha) * (grad - g_avg)
            denom = xp.sqrt(v - g_avg * g_avg)
        else:
            denom = xp.sqrt(v)
        denom += eps
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / denom
            p.array -= lr * buf
        else:
            p.array -= lr * (grad / denom)


def _reference_adam(p, grad, m, v, lr, b1, b2, eps, t, xp, max_v=None) -> None:
    """The reference ufunc sequence; a 0-d parameter runs on one-element views, since ufuncs on
    0-d arrays return scalars that its in-place steps (``out=``) cannot take."""
    if p.ndim == 0:
        p, m, v = p.reshape(1), m.reshape(1), v.reshape(1)
        grad = xp.reshape(grad, (1,))
        max_v = None if max_v is None else max_v.reshape(1)
    reference_adam_update(p, grad, m, v, lr, b1, b2, eps, t, xp=xp, max_v=max_v)


def _fused_adam_applies(*arrays) -> bool:
    """The fused kernels take flat views of C-contiguous arrays of one float dtype and shape."""
    first = arrays[0]
    return (first.dtype in (np.float32, np.float64)
            and all(a.dtype == first.dtype and a.shape == first.shape and a.flags.c_contiguous
                    for a in arrays))


from .adaptive import ASGD, Adadelta, Adagrad, Adamax, NAdam, RAdam, Rprop  # noqa: E402  (build on Optimizer)
from .lbfgs import LBFGS  # noqa: E402
from .matrix import Adafactor, Muon, SparseAdam  # noqa: E402
from . import lr_scheduler, swa_utils  # noqa: E402


class _RequiredParameter:
    """torch.optim.optimizer.required: the sentinel old optimizers used as a default ("this
    hyperparameter has no default"); third-party optimizers import it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


# torch keeps one module per optimizer (``from torch.optim.adam import Adam``, ``from
# torch.optim.optimizer import Optimizer, required``); here each of those names is an alias module
# holding its class(es).
from ..alias_modules import install_alias_modules  # noqa: E402

install_alias_modules(__name__, "torch.optim", {
    "optimizer": ["Optimizer", "required"], "sgd": ["SGD"], "adam": ["Adam"], "adamw": ["AdamW"],
    "rmsprop": ["RMSprop"], "adagrad": ["Adagrad"], "adadelta": ["Adadelta"], "adamax": ["Adamax"],
    "nadam": ["NAdam"], "radam": ["RAdam"], "asgd": ["ASGD"], "rprop": ["Rprop"], "lbfgs": ["LBFGS"],
    "sparse_adam": ["SparseAdam"], "adafactor": ["Adafactor"]})


def _swap_in_groups(optimizer: Optimizer, swapin_parameters: dict,
                    swapin_optim_state: dict) -> list[list[Any]]:
    """The swap-in parameters cut into the optimizer's groups, after checking that the swap-in
    state matches the optimizer group by group (as torch's checks, in its order)."""
    name = "swap_in_optimizer_params_and_state"
    if not isinstance(optimizer, Optimizer):
        raise InputTypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
    if not any(s is not None for s in optimizer._states):
        raise ConfigError(f"{name} requires initialized optimizer state (run a step first).")
    if not isinstance(swapin_optim_state, dict) or not isinstance(swapin_optim_state.get("state"), dict) \
            or not isinstance(swapin_optim_state.get("param_groups"), list):
        raise ConfigError(f"{name} requires an optimizer.state_dict()-style dict with 'state' and 'param_groups'.")
    groups = swapin_optim_state["param_groups"]
    if len(groups) != len(optimizer.param_groups):
        raise ConfigError(f"{name}: swapin_optim_state has {len(groups)} param groups, the optimizer "
                          f"{len(optimizer.param_groups)}")
    flat = list(swapin_parameters.values())
    offset, seen = 0, set()
    new_params = []
    for idx, (group, swap) in enumerate(zip(optimizer.param_groups, groups)):
        ids = _checked_swap_group(idx, group, swap)
        if offset + len(ids) > len(flat):
            raise ConfigError(f"{name}: {len(flat)} swap-in parameters for more optimizer parameters; "
                              "they must follow optimizer.param_groups' order")
        for p, live in zip(flat[offset:offset + len(ids)], group["params"]):
            if not isinstance(p, Tensor) or tuple(p.shape) != tuple(live.shape):
                raise ShapeError(f"{name}: a swap-in parameter of shape {getattr(p, 'shape', None)} "
                                 f"for a live one of shape {tuple(live.shape)}")
        new_params.append(flat[offset:offset + len(ids)])
        offset += len(ids)
        seen.update(ids)
    extra = [k for k in swapin_optim_state["state"] if k not in seen]
    if extra:
        raise ConfigError(f"{name}: swapin_optim_state['state'] must be keyed only by the packed ids of "
                          f"param_groups[*]['params']; got extra keys {extra!r}.")
    return new_params


def _checked_swap_group(idx: int, group: dict, swap: Any) -> list:
    """Swap-in group ``idx``'s packed parameter ids, checked against the live group: as many
    parameters, the same keys."""
    name = "swap_in_optimizer_params_and_state"
    ids = swap.get("params") if isinstance(swap, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise ConfigError(f"{name}: param_groups[{idx}]['params'] must be a list of packed int ids")
    if len(ids) != len(group["params"]):
        raise ConfigError(f"{name}: swapin_optim_state param group {idx} has a different number of "
                          "params than the live optimizer param group.")
    only_swap = [k for k in swap if k not in group]
    only_live = [k for k in group if k not in swap]
    if only_swap or only_live:
        raise ConfigError(f"{name}: param group keys must match the live group's for group {idx}. "
                          f"Keys only in swap-in: {only_swap}. Keys only in live: {only_live}.")
    return ids


def _copy_back_swapped_state(optimizer: Optimizer, swapin_optim_state: dict) -> None:
    """torch's only way back for the swap-in state: its Tensors get, in place, the values the
    steps inside the context left."""
    after = optimizer.state_dict()
    for pid, entries in swapin_optim_state["state"].items():
        for key, value in entries.items():
            new = after["state"].get(pid, {}).get(key)
            if isinstance(value, Tensor) and isinstance(new, Tensor) and value.shape == new.shape:
                with no_grad():
                    value.copy_(new)


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer: Optimizer, swapin_parameters: dict,
                                       swapin_optim_state: dict) -> Iterator[None]:
    """Context manager (torch.optim.swap_in_optimizer_params_and_state): inside it the
    optimizer works on ``swapin_parameters`` (a dict of Tensors in the order of its groups'
    parameters, e.g. ``dict(model.named_parameters())`` of another model) with the state of
    ``swapin_optim_state`` (an ``optimizer.state_dict()``-shaped dict); on exit its own
    parameters and state come back. As torch, only in-place changes to the swap-in state's
    tensors propagate back into ``swapin_optim_state`` (here: its tensors get the values the
    steps inside left)."""
    import copy
    new_params = _swap_in_groups(optimizer, swapin_parameters, swapin_optim_state)
    saved_state = copy.deepcopy(optimizer.state_dict())
    snapshots = [dict(g) for g in optimizer.param_groups]
    try:
        for group, params in zip(optimizer.param_groups, new_params):
            group["params"] = params
        optimizer.load_state_dict(swapin_optim_state)
        yield
        _copy_back_swapped_state(optimizer, swapin_optim_state)
    finally:
        for group, snap in zip(optimizer.param_groups, snapshots):
            group.clear()
            group.update(snap)
        optimizer.load_state_dict(saved_state)


__all__ += ["swap_in_optimizer_params_and_state"]
