"""torch.distributions for tensorgan: latent priors, reparameterised sampling (``rsample``) and
KL terms for GANs and VAE-GANs. Draws come from tensorgan's default generator, so
``tg.manual_seed`` makes them reproducible; ``validate_args`` is on by default, as in torch."""
from . import constraints
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .univariate import Beta, Exponential, Gamma, Gumbel, Laplace, LogNormal, Normal, Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma", "Gumbel",
           "Independent", "Laplace", "LogNormal", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl"]
