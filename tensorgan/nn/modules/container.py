"""``torch.nn.modules.container``: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
-- tensorgan.nn's classes under torch's module path."""
from .. import (  # noqa: F401
    Container, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential)

__all__ = ['Container', 'ModuleDict', 'ModuleList', 'ParameterDict', 'ParameterList', 'Sequential']
