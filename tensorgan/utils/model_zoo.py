"""``torch.utils.model_zoo``: ``load_url`` (:func:`tensorgan.hub.load_state_dict_from_url`) and
``tqdm`` (torch.hub's re-export of tqdm's progress bar)."""
from typing import Any

from .. import hub
from ..hub import load_state_dict_from_url as load_url

__all__ = ["load_url"]


def __getattr__(name: str) -> Any:
    if name == "tqdm":          # looked up through hub, which imports tqdm on first use
        return hub.tqdm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
