"""torch.distributions.Distribution: the base class (batch / event shapes, validation, sample
under no_grad) and the helpers every family shares."""
from __future__ import annotations

import contextlib
import math
import numbers
import operator
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError, DistributionInputError, InputTypeError, ShapeError
from ..factory import rand, randn, tensor
from ..function_forms import broadcast_tensors, get_default_dtype
from ..tensor import Tensor, enable_grad, no_grad
from . import constraints

__all__ = ["Distribution"]


class lazy_property:
    """A property computed once per instance and then stored in its ``__dict__`` (torch's
    lazy_property: ``probs`` from ``logits`` or the other way round). It is computed with
    gradients enabled, as torch's: first read inside ``sample``'s no_grad, it would otherwise
    cache a value cut off from the parameters for every later ``log_prob``."""

    def __init__(self, fn: Any):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        with enable_grad():
            value = self.fn(instance)
        instance.__dict__[self.fn.__name__] = value
        return value


def _size(shape: Any, what: str = "sample_shape") -> tuple:
    """A shape argument (tuple, list or int) as a tuple of ints."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        if any(isinstance(s, (bool, np.bool_)) for s in shape):
            raise TypeError
        out = tuple(operator.index(s) for s in shape)       # a float size is not truncated
    except TypeError:
        raise InputTypeError(f"{what} must be a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in out):
        raise ShapeError(f"{what} must not be negative, got {out}")
    return out


def broadcast_all(*values: Any) -> tuple:
    """Numbers and Tensors broadcast to one shape (torch.distributions.utils.broadcast_all);
    numbers take the dtype of the first floating Tensor, else the default dtype."""
    like = next((v for v in values if isinstance(v, Tensor) and v.is_floating_point()),
                next((v for v in values if isinstance(v, Tensor)), None))
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)) or isinstance(v, bool):
            raise DistributionInputError("Input arguments must all be instances of numbers.Number or "
                                 f"tensorgan.Tensor, got {type(v).__name__}")
    dtype = like.dtype if like is not None and like.is_floating_point() else get_default_dtype()
    device = like.device if like is not None else None
    tensors = [v if isinstance(v, Tensor) else tensor(float(v), dtype=dtype, device=device)
               for v in values]
    return tuple(broadcast_tensors(*tensors)) if len(tensors) > 1 else tuple(tensors)


def standard_normal(shape: tuple, like: Tensor) -> Tensor:
    """N(0, 1) noise of ``shape`` from tensorgan's default generator (``tg.manual_seed``)."""
    return randn(shape, dtype=like.dtype, device=like.device)


def standard_uniform(shape: tuple, like: Tensor) -> Tensor:
    """U[0, 1) noise of ``shape`` from tensorgan's default generator."""
    return rand(shape, dtype=like.dtype, device=like.device)


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """``value`` summed over its ``dim`` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:value.ndim - dim] + (math.prod(value.shape[value.ndim - dim:]),)).sum(-1)


class Distribution:
    """Base class of probability distributions: ``batch_shape`` (independent, differently
    parameterised copies) and ``event_shape`` (one draw); ``validate_args`` (default on, as in
    torch) refuses parameters outside ``arg_constraints`` and values outside ``support``."""
    has_rsample = False
    has_enumerate_support = False
    _validate_args = True
    arg_constraints: dict = {}

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for every distribution made afterwards."""
        if value not in (True, False):
            raise ConfigError(f"set_default_validate_args: value must be True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape: Sequence[int] = (), event_shape: Sequence[int] = (),
                 validate_args: bool | None = None) -> None:
        self._batch_shape = _size(batch_shape, "batch_shape")
        self._event_shape = _size(event_shape, "event_shape")
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self) -> None:
        """Refuse a parameter outside its constraint, naming it, its shape and the values."""
        for param, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                continue                       # not given: computed from the other parameterisation
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ConfigError(f"Expected parameter {param} ({type(value).__name__} of shape "
                                  f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                                  f"constraint {constraint!r}, but found invalid values:\n{value}")

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Any:
        """A blank instance for ``expand`` (torch's helper of the same name)."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that "
                                      "defines a custom __init__ method must also define a custom .expand() method.")
        return type(self).__new__(type(self)) if _instance is None else _instance

    def _finish_expand(self, new: "Distribution", batch_shape: tuple) -> "Distribution":
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Distribution":
        """A new distribution with parameters expanded to ``batch_shape`` (no copy, no checks)."""
        raise NotImplementedError

    @property
    def batch_shape(self) -> tuple:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        return self._event_shape

    @property
    def support(self) -> Any:
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """A draw of shape ``sample_shape + batch_shape + event_shape``, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """A reparameterised draw: differentiable with respect to the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample (has_rsample is False)")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _extended_shape(self, sample_shape: Sequence[int] = ()) -> tuple:
        return _size(sample_shape) + self._batch_shape + self._event_shape

    def _validate_sample(self, value: Any) -> None:
        """Refuse a value whose shape does not fit or that lies outside ``support``."""
        if not isinstance(value, Tensor):
            raise DistributionInputError("The value argument to log_prob must be a Tensor, got "
                                 f"{type(value).__name__}")
        event_start = value.ndim - len(self._event_shape)
        if tuple(value.shape[event_start:]) != self._event_shape:
            raise ShapeError(f"The right-most size of value must match event_shape: "
                             f"{tuple(value.shape)} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(value.shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ShapeError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{tuple(value.shape)} vs {expected}.")
        support = self.support
        if not bool(support.check(value).all()):
            raise ConfigError(f"Expected value argument ({type(value).__name__} of shape "
                              f"{tuple(value.shape)}) to be within the support ({support!r}) of "
                              f"the distribution {self!r}, but found invalid values:\n{value}")

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else tuple(self.__dict__[p].shape)}"
                         for p in names)
        return f"{type(self).__name__}({args})"


class Elementwise(Distribution):
    """A family whose parameters all broadcast to ``batch_shape`` and whose events are scalars
    (Normal, Uniform, Laplace, ...): shared ``__init__`` and ``expand``."""
    _param_names: tuple = ()

    def __init__(self, params: dict, validate_args: bool | None = None) -> None:
        values = broadcast_all(*params.values())
        for name, value in zip(params, values):
            setattr(self, name, value)
        scalar = all(isinstance(v, numbers.Number) for v in params.values())
        super().__init__(() if scalar else values[0].shape, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Distribution":
        new = self._get_checked_instance(type(self), _instance)
        batch_shape = _size(batch_shape, "batch_shape")
        for name in self._param_names:
            setattr(new, name, getattr(self, name).expand(batch_shape))
        return self._finish_expand(new, batch_shape)

    @property
    def _like(self) -> Tensor:
        """The first parameter: dtype and device of the noise."""
        return getattr(self, self._param_names[0])

    def _validated(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        return value


@contextlib.contextmanager
def parameters_of(outer: str) -> Any:
    """Around building the inner distribution of ``outer`` from the user's parameters of the
    same names (LogNormal's Normal(loc, scale)): a failed validation names ``outer``, the
    distribution the user made, not the inner one torch's message names."""
    try:
        yield
    except ConfigError as exc:
        head, sep, tail = str(exc).partition(" of distribution ")
        if not (sep and head.startswith("Expected parameter ")):
            raise
        raise ConfigError(f"{head}{sep}{outer}{tail[tail.index('('):]}") from None
