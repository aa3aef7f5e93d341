"""``torch.autograd.profiler``: the older spelling of :mod:`tensorgan.profiler`.

``record_function`` is the same class (a range recorded by any active profile), so library code
that wraps a helper in ``with torch.autograd.profiler.record_function(name):`` (StyleGAN2-ADA's
``misc.profiled_function``) runs unchanged; ``profile(enabled=True, ...)`` is the legacy
profiler's signature over the same recorder (disabled: records nothing)."""
from __future__ import annotations

from typing import Any

from ..profiler import EventList, FunctionEvent, record_function
from ..profiler import profile as _profile

__all__ = ["profile", "record_function", "EventList", "FunctionEvent"]


class profile(_profile):
    """``torch.autograd.profiler.profile(enabled=True, *, use_cuda=False, record_shapes=False,
    ...)``: records the ``record_function`` ranges run inside it unless ``enabled`` is False."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: Any = None,
                 record_shapes: bool = False, with_flops: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_kineto: bool = False, use_cpu: bool = True,
                 experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Any = None, **_: Any) -> None:
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory)
        self.enabled = bool(enabled)

    def start(self) -> None:
        if self.enabled:
            super().start()
