"""torch.distributions for tensorgan: latent priors, reparameterised sampling (``rsample``) and
KL terms for GANs and VAE-GANs. Draws come from tensorgan's default generator, so
``tg.manual_seed`` makes them reproducible; ``validate_args`` is on by default, as in torch."""
from . import constraints, transforms
from .constraint_registry import biject_to, transform_to
from .discrete import Bernoulli, Categorical, OneHotCategorical, OneHotCategoricalStraightThrough
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .relaxed import ExpRelaxedCategorical, LogitRelaxedBernoulli, RelaxedBernoulli, RelaxedOneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403  (torch.distributions re-exports its transforms)
from .univariate import Beta, Exponential, Gamma, Gumbel, Laplace, LogNormal, Normal, Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Distribution", "ExpRelaxedCategorical", "Exponential",
           "Gamma", "Gumbel", "Independent", "Laplace", "LogNormal", "LogitRelaxedBernoulli",
           "MultivariateNormal", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough",
           "RelaxedBernoulli", "RelaxedOneHotCategorical", "TransformedDistribution", "Uniform",
           "biject_to", "constraints", "kl_divergence", "register_kl", "transform_to", "transforms"] + transforms.__all__
