"""torch's ``torch.nn.utils.stateless``: ``functional_call`` (the same as ``tg.func.functional_call``)."""
from ...func import functional_call

__all__ = ["functional_call"]
