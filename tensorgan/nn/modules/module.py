"""``torch.nn.modules.module``: the Module base class (tensorgan.nn.Module) and the global module
hooks (``register_module_forward_hook`` ...)."""
from ..module import (Module, RemovableHandle, register_module_backward_hook,  # noqa: F401
                      register_module_forward_hook, register_module_forward_pre_hook,
                      register_module_full_backward_hook, register_module_full_backward_pre_hook)

__all__ = ["Module", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_pre_hook", "register_module_full_backward_hook",
           "register_module_backward_hook"]
