"""``torch.nn.modules.sparse``: the embedding layers by their torch module path."""
from __future__ import annotations

from .. import (  # noqa: F401
    Embedding, EmbeddingBag)

__all__ = ['Embedding', 'EmbeddingBag']
