"""``torch.nn.modules.transformer``: the Transformer layers -- tensorgan.nn's classes under torch's
module path."""
from .. import (  # noqa: F401
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer)

__all__ = ['Transformer', 'TransformerDecoder', 'TransformerDecoderLayer', 'TransformerEncoder',
           'TransformerEncoderLayer']
