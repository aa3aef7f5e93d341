"""Models built from tensorgan.nn: the DCGAN generator and discriminators."""
from . import dcgan
from .dcgan import Discriminator, Generator, MLPDiscriminator, build_models, models_from_config

__all__ = ["dcgan", "Generator", "Discriminator", "MLPDiscriminator", "build_models", "models_from_config"]
