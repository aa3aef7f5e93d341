"""``torch.nn.utils.convert_parameters``'s path: parameters to one vector and back (the
functions live in :mod:`tensorgan.nn.utils`)."""
from . import parameters_to_vector, vector_to_parameters

__all__ = ["parameters_to_vector", "vector_to_parameters"]
