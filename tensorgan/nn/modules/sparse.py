"""``torch.nn.modules.sparse``: Embedding, EmbeddingBag -- tensorgan.nn's classes under torch's
module path."""
from .. import (  # noqa: F401
    Embedding, EmbeddingBag)

__all__ = ['Embedding', 'EmbeddingBag']
