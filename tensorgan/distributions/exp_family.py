"""torch.distributions.ExponentialFamily: p(x; theta) = exp(<t(x), theta> - F(theta) + k(x)).
A family gives its natural parameters theta (``_natural_params``), its log normaliser F
(``_log_normalizer``) and E[k(x)] (``_mean_carrier_measure``); ``entropy`` then follows from the
Bregman divergence of F (its gradient taken by autograd), as torch's, and two members of the
same family have a KL divergence the same way (``kl._kl_expfamily_expfamily``)."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential families: entropy = F(theta) - <theta, grad F(theta)> - E[k(x)]."""

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError(f"{type(self).__name__} does not define _natural_params")

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not define _log_normalizer")

    @property
    def _mean_carrier_measure(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define _mean_carrier_measure")

    def entropy(self) -> Tensor:
        """The entropy by the Bregman divergence of the log normaliser (differentiable)."""
        from ..autograd import grad
        from ..grad_mode import enable_grad
        result = -self._mean_carrier_measure
        with enable_grad():
            nparams = [p.detach().requires_grad_() for p in self._natural_params]
            lg_normal = self._log_normalizer(*nparams)
            gradients = grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for p, g in zip(nparams, gradients):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
