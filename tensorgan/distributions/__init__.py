"""torch.distributions for tensorgan: latent priors, reparameterised sampling (``rsample``),
Gumbel-softmax relaxations, transforms and KL terms for GANs and VAE-GANs. Draws come from
tensorgan's default generator, so ``tg.manual_seed`` makes them reproducible; ``validate_args``
is on by default, as in torch."""
from . import constraints, transforms, utils
from .constraint_registry import biject_to, transform_to
from .continuous import (Cauchy, Chi2, ContinuousBernoulli, Dirichlet, FisherSnedecor, HalfCauchy, HalfNormal,
                         Kumaraswamy, Pareto, StudentT, VonMises, Weibull)
from .counts import Binomial, Geometric, Multinomial, NegativeBinomial, Poisson
from .discrete import Bernoulli, Categorical, OneHotCategorical, OneHotCategoricalStraightThrough
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .independent import Independent
from .kl import kl_divergence, register_kl
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture import MixtureSameFamily
from .more_families import GeneralizedPareto, InverseGamma, LKJCholesky, LogisticNormal, Wishart
from .multivariate_normal import MultivariateNormal
from .relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, CatTransform, ComposeTransform, CorrCholeskyTransform,
                         CumulativeDistributionTransform, ExpTransform, IndependentTransform, PositiveDefiniteTransform,
                         StackTransform,
                         LowerCholeskyTransform, PowerTransform, ReshapeTransform, SigmoidTransform,
                         SoftmaxTransform, SoftplusTransform, StickBreakingTransform, TanhTransform, Transform,
                         identity_transform)
from .univariate import Beta, Exponential, Gamma, Gumbel, Laplace, LogNormal, Normal, Uniform

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "CatTransform", "Categorical",
           "Cauchy", "Chi2", "ComposeTransform", "ContinuousBernoulli", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "Dirichlet", "Distribution",
           "ExpTransform", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma", "GeneralizedPareto",
           "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent", "IndependentTransform",
           "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal",
           "LowRankMultivariateNormal", "LowerCholeskyTransform",
           "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal",
           "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "Poisson", "PositiveDefiniteTransform",
           "PowerTransform",
           "RelaxedBernoulli", "RelaxedOneHotCategorical", "ReshapeTransform", "SigmoidTransform",
           "SoftmaxTransform", "SoftplusTransform", "StackTransform", "StickBreakingTransform", "StudentT", "TanhTransform",
           "Transform", "TransformedDistribution", "Uniform", "VonMises", "Weibull", "Wishart", "biject_to",
           "constraints", "identity_transform", "kl_divergence", "register_kl", "transform_to",
           "transforms", "utils"]


# torch keeps one module per distribution (``torch.distributions.uniform.Uniform``, ``from
# torch.distributions.normal import Normal``); here the classes live in a few files, so each of
# torch's module names is an alias module holding its class(es).
from ..alias_modules import install_alias_modules  # noqa: E402

install_alias_modules(__name__, "torch.distributions", {
    "bernoulli": ["Bernoulli"], "beta": ["Beta"], "binomial": ["Binomial"],
    "categorical": ["Categorical"], "cauchy": ["Cauchy"], "chi2": ["Chi2"],
    "continuous_bernoulli": ["ContinuousBernoulli"], "dirichlet": ["Dirichlet"],
    "exponential": ["Exponential"],
    "generalized_pareto": ["GeneralizedPareto"], "inverse_gamma": ["InverseGamma"],
    "lkj_cholesky": ["LKJCholesky"], "logistic_normal": ["LogisticNormal"], "wishart": ["Wishart"], "fishersnedecor": ["FisherSnedecor"], "gamma": ["Gamma"],
    "geometric": ["Geometric"],
    "gumbel": ["Gumbel"], "half_cauchy": ["HalfCauchy"], "half_normal": ["HalfNormal"],
    "kumaraswamy": ["Kumaraswamy"], "laplace": ["Laplace"], "log_normal": ["LogNormal"],
    "mixture_same_family": ["MixtureSameFamily"], "multinomial": ["Multinomial"],
    "negative_binomial": ["NegativeBinomial"], "normal": ["Normal"],
    "one_hot_categorical": ["OneHotCategorical", "OneHotCategoricalStraightThrough"],
    "pareto": ["Pareto"], "poisson": ["Poisson"], "relaxed_bernoulli": ["RelaxedBernoulli"],
    "relaxed_categorical": ["RelaxedOneHotCategorical"], "studentT": ["StudentT"],
    "uniform": ["Uniform"], "von_mises": ["VonMises"], "weibull": ["Weibull"]})
