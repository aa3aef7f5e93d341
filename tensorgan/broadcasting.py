"""One check for "do these shapes broadcast?": np.broadcast_shapes, its ValueError turned into a
ShapeError naming the op and the shapes (was a try / except copied into every op that checks)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeError


def broadcast_shape(message: str, *shapes: tuple, **fields: Any) -> tuple:
    """The shape ``shapes`` broadcast to, or a ShapeError of ``message.format(*shapes, **fields)``:
    ``{0}``, ``{1}``, ... are the shapes, named fields the rest. The message is formatted only
    when the shapes do not broadcast, so the common path pays for no string."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(message.format(*shapes, **fields)) from None
