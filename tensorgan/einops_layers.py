"""einops' layers for tensorgan: ``Rearrange`` / ``Reduce`` / ``EinMix``, built on einops' own mixins
as ``einops.layers.torch`` builds them on ``torch.nn.Module`` (needs einops installed).

A port changes ``from einops.layers.torch import Rearrange, Reduce, EinMix`` to
``from tensorgan.einops_layers import Rearrange, Reduce, EinMix`` (also ``tensorgan.nn.Rearrange``,
...).  They are ``tensorgan.nn.Module`` s: in ``nn.Sequential``, ``state_dict`` (EinMix's ``weight`` /
``bias``), ``.to()`` / ``.double()``, hooks, with gradients through every op.
"""
from typing import Dict, Optional, cast

from einops.layers import RearrangeMixin, ReduceMixin
from einops.layers._einmix import _EinmixMixin

from . import einops_backend  # noqa: F401  (the backend the mixins' _apply_recipe finds)
from .function_forms import einsum as _einsum
from .nn.module import Module, Parameter
from .factory import zeros as _zeros

__all__ = ["Rearrange", "Reduce", "EinMix"]


class Rearrange(RearrangeMixin, Module):
    """einops.rearrange as a layer: ``Rearrange("b c h w -> b (c h w)")``."""

    def forward(self, input):
        return self._apply_recipe(input)


class Reduce(ReduceMixin, Module):
    """einops.reduce as a layer: ``Reduce("b c h w -> b c", "mean")``."""

    def forward(self, input):
        return self._apply_recipe(input)


class EinMix(_EinmixMixin, Module):
    """einsum with a learned weight (and bias), plus rearranges: einops' EinMix.  The weight and bias
    are drawn uniform in +-bound as einops' torch layer draws them."""

    def _create_parameters(self, weight_shape, weight_bound, bias_shape, bias_bound):
        self.weight = Parameter(_zeros(weight_shape).uniform_(-weight_bound, weight_bound))
        if bias_shape is not None:
            self.bias = Parameter(_zeros(bias_shape).uniform_(-bias_bound, bias_bound))
        else:
            self.bias = None

    def _create_rearrange_layers(self, pre_reshape_pattern: Optional[str], pre_reshape_lengths: Optional[Dict],
                                 post_reshape_pattern: Optional[str], post_reshape_lengths: Optional[Dict]):
        self.pre_rearrange = None
        if pre_reshape_pattern is not None:
            self.pre_rearrange = Rearrange(pre_reshape_pattern, **cast(dict, pre_reshape_lengths))
        self.post_rearrange = None
        if post_reshape_pattern is not None:
            self.post_rearrange = Rearrange(post_reshape_pattern, **cast(dict, post_reshape_lengths))

    def forward(self, input):
        if self.pre_rearrange is not None:
            input = self.pre_rearrange(input)
        result = _einsum(self.einsum_pattern, input, self.weight)
        if self.bias is not None:
            result = result + self.bias
        if self.post_rearrange is not None:
            result = self.post_rearrange(result)
        return result
