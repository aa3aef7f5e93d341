"""Scalar continuous families of torch.distributions: Normal, Uniform, Exponential, Laplace,
LogNormal, Gumbel, Gamma and Beta, all reparameterised (Gamma and Beta implicitly, as torch's:
the gradient of a Gamma draw x with respect to its concentration is dx/dalpha at a fixed cdf
value, see ``implicit_kernels``)."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import special
from ..autograd.function import Function, once_differentiable
from ..errors import AutogradNotSupportedError
from ..factory import stack, where, zeros_like
from ..function_forms import finfo
from ..random import default_generator
from ..tensor import Function as ArrayFunction
from ..tensor import Tensor
from . import constraints
from .distribution import Elementwise, parameters_of, standard_normal, standard_uniform
from .exp_family import ExponentialFamily
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform

__all__ = ["Normal", "Uniform", "Exponential", "Laplace", "LogNormal", "Gumbel", "Gamma", "Beta"]

_EULER = 0.57721566490153286060


class LocationScale(Elementwise):
    """A family on the real line with a real ``loc`` and a positive ``scale`` (Normal, Laplace,
    Gumbel, Cauchy): their shared parameters, constraints and constructor."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _param_names = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        super().__init__({"loc": loc, "scale": scale}, validate_args)


class Normal(LocationScale, ExponentialFamily):
    """N(loc, scale^2); ``rsample`` is loc + scale * eps, eps ~ N(0, 1)."""
    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal()))

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()

    mean = mode = property(lambda self: self.loc)
    stddev = property(lambda self: self.scale)
    variance = property(lambda self: self.scale.pow(2))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        eps = standard_normal(self._extended_shape(sample_shape), self.loc)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        return (-((value - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log()
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def icdf(self, value: Tensor) -> Tensor:
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class Uniform(Elementwise):
    """U[low, high); ``rsample`` is low + u * (high - low), u ~ U[0, 1)."""
    has_rsample = True
    _param_names = ("low", "high")

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        super().__init__({"low": low, "high": high}, validate_args)

    @property
    def arg_constraints(self) -> dict:
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    mean = property(lambda self: (self.high + self.low) / 2)
    mode = property(lambda self: math.nan * self.high)
    stddev = property(lambda self: (self.high - self.low) / 12 ** 0.5)
    variance = property(lambda self: (self.high - self.low).pow(2) / 12)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        u = standard_uniform(self._extended_shape(sample_shape), self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value: Tensor) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


class Exponential(Elementwise, ExponentialFamily):
    """Exp(rate) on [0, inf); ``rsample`` is -log1p(-u) / rate, u ~ U[0, 1)."""
    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (-self.rate,))

    def _log_normalizer(self, x):
        return -(-x).log()

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _param_names = ("rate",)

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        super().__init__({"rate": rate}, validate_args)

    mean = stddev = property(lambda self: self.rate.reciprocal())
    mode = property(lambda self: zeros_like(self.rate))
    variance = property(lambda self: self.rate.pow(-2))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        u = standard_uniform(self._extended_shape(sample_shape), self.rate)
        return -(-u).log1p() / self.rate

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()


class Laplace(LocationScale):
    """Laplace(loc, scale); ``rsample`` by the inverse cdf of u ~ U(eps - 1, 1)."""
    mean = mode = property(lambda self: self.loc)
    variance = property(lambda self: 2 * self.scale.pow(2))
    stddev = property(lambda self: 2 ** 0.5 * self.scale)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        eps = float(finfo(self.loc.dtype).eps)
        u = standard_uniform(self._extended_shape(sample_shape), self.loc) * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value: Tensor) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


class LogNormal(TransformedDistribution):
    """exp(X), X ~ Normal(loc, scale) (``base_dist``): a TransformedDistribution by ExpTransform,
    as torch's."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        with parameters_of("LogNormal"):
            base = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "LogNormal":
        return super().expand(batch_shape, self._get_checked_instance(LogNormal, _instance))

    def _check_parameters(self) -> None:
        """Checked by the base Normal."""

    loc = property(lambda self: self.base_dist.loc)
    scale = property(lambda self: self.base_dist.scale)
    mean = property(lambda self: (self.loc + self.scale.pow(2) / 2).exp())
    mode = property(lambda self: (self.loc - self.scale.square()).exp())
    variance = property(lambda self: self.scale.pow(2).expm1() * (2 * self.loc + self.scale.pow(2)).exp())

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc

    def __repr__(self) -> str:
        return f"LogNormal(loc: {self.loc if self.loc.numel() == 1 else tuple(self.loc.shape)}, " \
               f"scale: {self.scale if self.scale.numel() == 1 else tuple(self.scale.shape)})"


class Gumbel(LocationScale):
    """Gumbel(loc, scale); ``rsample`` is loc - scale * log(-log u), u ~ U(tiny, 1 - eps)."""
    mean = property(lambda self: self.loc + self.scale * _EULER)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: (math.pi / math.sqrt(6)) * self.scale)
    variance = property(lambda self: self.stddev.pow(2))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        return self.icdf(standard_uniform(self._extended_shape(sample_shape), self.loc))

    def log_prob(self, value: Tensor) -> Tensor:
        y = (self.loc - self._validated(value)) / self.scale
        return (y - y.exp()) - self.scale.log()

    def cdf(self, value: Tensor) -> Tensor:
        return (-(-(self._validated(value) - self.loc) / self.scale).exp()).exp()

    def icdf(self, value: Tensor) -> Tensor:
        """Through torch's base Uniform(tiny, 1 - eps): 0 and 1 give finite values, as torch's."""
        info = finfo(self.loc.dtype)
        u = value * (1 - float(info.eps) - float(info.tiny)) + float(info.tiny)
        return self.loc - self.scale * (-u.log()).log()

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + _EULER)


def _gamma_draw(concentration: Tensor, shape: tuple) -> Tensor:
    """Gamma(concentration, 1) draws of ``shape`` from the default generator (no gradient)."""
    conc = np.broadcast_to(concentration.detach().numpy(), shape)
    draw = np.asarray(default_generator.rng.standard_gamma(conc), dtype=conc.dtype)   # (0-d: a
    tiny = np.finfo(conc.dtype).tiny                                 # float from NumPy, made an array)
    return Tensor._from(np.asarray(np.maximum(draw, tiny)), device=concentration.device)


def _host64(t: Tensor) -> np.ndarray:
    """float64 host copy (the implicit-gradient kernels are Numba CPU ones; on the GPU the
    backward copies alpha and x to the host and the gradient back)."""
    return np.asarray(t.detach().numpy(), dtype=np.float64)


class _StandardGammaGrad(ArrayFunction):
    """dx/dalpha (``dx``, computed) as a node on ``alpha``, as torch's ``_standard_gamma_grad``:
    with create_graph the gamma draw's gradient depends on alpha, and a second derivative through
    it is refused (torch's NotImplementedError) rather than silently left out."""
    reads_inputs = False

    def forward(self, alpha, dx):
        return dx

    def backward(self, g):
        raise AutogradNotSupportedError("the derivative for '_standard_gamma_grad' is not "
                                        "implemented (the implicit gradient of Gamma / Chi2 / "
                                        "StudentT rsample is differentiable once)")

    grad_graph = backward


class _ImplicitGamma(Function):
    """Identity on a Gamma(alpha, 1) draw ``x`` (made by ``_gamma_draw`` from ``alpha``, which has
    ``x``'s shape) whose backward is torch's ``_standard_gamma`` one: g * dx/dalpha (dx/dalpha
    a ``_StandardGammaGrad`` node on alpha under create_graph, as torch's)."""

    @staticmethod
    def forward(ctx, alpha: Tensor, x: Tensor) -> Tensor:
        ctx.save_for_backward(alpha, x)
        return x.clone()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple:
        from .implicit_kernels import standard_gamma_grad
        alpha, x = ctx.saved_tensors
        dx = standard_gamma_grad(_host64(alpha), _host64(x)).astype(alpha.array.dtype)
        dx = Tensor._from(dx, device=alpha.device)
        return grad * _StandardGammaGrad.apply(alpha, dx), None


class _ImplicitDirichlet(Function):
    """Identity on a Dirichlet draw ``x`` (normalised Gamma draws; ``concentration`` has its
    shape) whose backward is torch's ``_Dirichlet`` one: with d_i = _dirichlet_grad(x_i, c_i,
    sum c), dL/dc_i = d_i (g_i - sum_j x_j g_j)."""

    @staticmethod
    def forward(ctx, concentration: Tensor, x: Tensor) -> Tensor:
        ctx.save_for_backward(concentration, x)
        return x.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> tuple:
        from .implicit_kernels import dirichlet_grad
        conc, x = ctx.saved_tensors
        c64 = _host64(conc)
        d = dirichlet_grad(_host64(x), c64, np.broadcast_to(c64.sum(-1, keepdims=True), c64.shape))
        d = Tensor._from(d.astype(conc.array.dtype), device=conc.device)
        return d * (grad - (x * grad).sum(-1, keepdim=True)), None


def standard_gamma(concentration: Tensor, shape: tuple) -> Tensor:
    """Gamma(concentration, 1) draws of ``shape``, reparameterised (torch's ``_standard_gamma``
    of ``concentration.expand(shape)``)."""
    x = _gamma_draw(concentration, shape)
    if not concentration.requires_grad:
        return x
    return _ImplicitGamma.apply(concentration.expand(shape), x)


class Gamma(Elementwise, ExponentialFamily):
    """Gamma(concentration, rate) on (0, inf); ``rsample`` is X / rate with X ~ Gamma(concentration,
    1) implicitly reparameterised (dX/dconcentration at a fixed cdf value), as torch's."""
    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (self.concentration - 1, -self.rate))

    def _log_normalizer(self, x, y):
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _param_names = ("concentration", "rate")

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        super().__init__({"concentration": concentration, "rate": rate}, validate_args)

    mean = property(lambda self: self.concentration / self.rate)
    mode = property(lambda self: ((self.concentration - 1) / self.rate).clamp(min=0))
    variance = property(lambda self: self.concentration / self.rate.pow(2))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration, shape) / self.rate.expand(shape)
        value.detach().clamp_(min=float(finfo(value.dtype).tiny))     # as torch: values only
        return value

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        a, b = self.concentration, self.rate
        return a.xlogy(b) + (a - 1).xlogy(value) - b * value - a.lgamma()

    def cdf(self, value: Tensor) -> Tensor:
        """The regularized lower incomplete gamma P(concentration, rate * value), as torch's
        (differentiable in rate and value, not in concentration)."""
        value = self._validated(value)
        return special.gammainc(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        a = self.concentration
        return a - self.rate.log() + a.lgamma() + (1.0 - a) * a.digamma()


class Beta(Elementwise, ExponentialFamily):
    """Beta(concentration1, concentration0) on [0, 1]; drawn and reparameterised as torch's: the
    first coordinate of Dirichlet((concentration1, concentration0)), with its implicit gradient."""
    _natural_params = property(lambda self: (self.concentration1, self.concentration0))

    def _log_normalizer(self, x, y):
        return x.lgamma() + y.lgamma() - (x + y).lgamma()

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True
    _param_names = ("concentration1", "concentration0")

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        super().__init__({"concentration1": concentration1, "concentration0": concentration0}, validate_args)

    mean = property(lambda self: self.concentration1 / (self.concentration1 + self.concentration0))

    @property
    def mode(self) -> Tensor:
        """(a - 1)^+ / ((a - 1)^+ + (b - 1)^+); where a, b < 1 both, the end of the larger one."""
        a, b = self.concentration1, self.concentration0
        am1, bm1 = (a - 1).clamp(min=0), (b - 1).clamp(min=0)
        return where((a < 1) & (b < 1), (a >= b).to(a.dtype), am1 / (am1 + bm1))

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """torch's: Dirichlet((concentration1, concentration0)).rsample()[..., 0] (the same draws
        under the same seed)."""
        shape = self._extended_shape(sample_shape)
        conc = stack([self.concentration1.expand(shape), self.concentration0.expand(shape)], -1)
        g = _gamma_draw(conc, conc.shape)
        x = g / g.sum(-1, keepdim=True)
        if conc.requires_grad:
            x = _ImplicitDirichlet.apply(conc, x)
        return x[..., 0]

    def _log_beta(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return a.lgamma() + b.lgamma() - (a + b).lgamma()

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validated(value)
        a, b = self.concentration1, self.concentration0
        return (a - 1).xlogy(value) + (b - 1).xlogy(1 - value) - self._log_beta()

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return (self._log_beta() - (a - 1) * a.digamma() - (b - 1) * b.digamma()
                + (a + b - 2) * (a + b).digamma())
