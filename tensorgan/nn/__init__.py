"""Neural-network layers and the Module container (``torch.nn`` names)."""
import sys

from .. import functional
from . import init, parallel, parameter, utils
from . import grad  # noqa: E402,F401  (torch.nn.grad.conv2d_input / conv2d_weight)
from .layers import (CosineSimilarity, ELU, GELU, Dropout1d, Dropout2d, LogSigmoid, ParameterDict, ParameterList, PReLU,
                     ReLU6, UpsamplingBilinear2d, UpsamplingNearest2d, GroupNorm, Hardtanh, InstanceNorm2d, LayerNorm, LogSoftmax, PixelShuffle,
                     PixelUnshuffle, SiLU, Softmax, Softplus,
                     AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, ConstantPad2d, Conv1d, Conv2d,
                     ConvTranspose1d, ConvTranspose2d,
                     Dropout, Embedding, Flatten, Identity, LeakyReLU, Linear, MaxPool2d, ModuleDict,
                     ModuleList, ReflectionPad2d, ReLU, ReplicationPad2d, Sequential, Sigmoid, Tanh,
                     Unflatten, Upsample, ZeroPad2d)
from .layers import (CELU, GLU, Hardshrink, Hardsigmoid, Hardswish, Mish, RReLU, SELU, Softmax2d,
                     Softmin, Softshrink, Softsign, Tanhshrink, Threshold, AdaptiveAvgPool1d,
                     AdaptiveMaxPool1d, AvgPool1d, CircularPad1d, CircularPad2d, ConstantPad1d,
                     InstanceNorm1d, MaxPool1d, MaxUnpool1d, MaxUnpool2d, ReflectionPad1d, ReplicationPad1d, ZeroPad1d, Fold,
                     PairwiseDistance, RMSNorm, Unfold)
from .layers import (AlphaDropout, Bilinear, ChannelShuffle, Container, FeatureAlphaDropout, FractionalMaxPool2d,
                     LocalResponseNorm, LPPool1d, LPPool2d)
from .layers import CrossMapLRN2d, FractionalMaxPool3d, LPPool3d, SyncBatchNorm
from .loss import LinearCrossEntropyLoss
from .layers import (AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, BatchNorm3d, CircularPad3d,
                     ConstantPad3d, Conv3d, ConvTranspose3d, Dropout3d, InstanceNorm3d, MaxPool3d,
                     MaxUnpool3d, ReflectionPad3d, ReplicationPad3d, ZeroPad3d)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, NLLLoss, SmoothL1Loss)
from .attention import (MultiheadAttention, Transformer, TransformerDecoder, TransformerDecoderLayer,
                        TransformerEncoder, TransformerEncoderLayer)
from .recurrent import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell, RNNCellBase
from .loss import (CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, MarginRankingLoss,
                   MultiLabelSoftMarginLoss, PoissonNLLLoss, SoftMarginLoss, TripletMarginLoss)
from .loss import (CTCLoss, MultiLabelMarginLoss, MultiMarginLoss, NLLLoss2d,
                   TripletMarginWithDistanceLoss)
from .layers import EmbeddingBag
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .module import Buffer, Module, Parameter, UninitializedBuffer, UninitializedParameter
from .lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyConv1d, LazyConv2d, LazyConvTranspose1d,
                   LazyConvTranspose2d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyLinear,
                   LazyBatchNorm3d, LazyConv3d, LazyConvTranspose3d, LazyInstanceNorm3d)
from .parallel import DataParallel

__all__ = ["functional", "init", "parallel", "parameter", "utils", "DataParallel", "Module", "Parameter", "Linear",
           "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "LeakyReLU", "ReLU", "Tanh",
           "Sigmoid", "Dropout", "Flatten", "Unflatten", "Identity", "Sequential", "ModuleList",
           "ModuleDict", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Embedding", "BCELoss", "BCEWithLogitsLoss",
           "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "Upsample", "ZeroPad2d", "ConstantPad2d",
           "ReflectionPad2d", "ReplicationPad2d", "LayerNorm", "GroupNorm", "InstanceNorm2d",
           "Softplus", "GELU", "SiLU", "ELU", "Hardtanh", "Softmax", "LogSoftmax", "PixelShuffle",
           "PixelUnshuffle", "CosineSimilarity", "Dropout1d", "Dropout2d", "LogSigmoid", "ParameterDict", "ParameterList",
           "PReLU", "ReLU6", "UpsamplingBilinear2d", "UpsamplingNearest2d", "MultiheadAttention",
           "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder", "Transformer"]
__all__ += ["CELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Mish", "RReLU", "SELU", "Softmax2d",
            "Softmin", "Softshrink", "Softsign", "Tanhshrink", "Threshold", "AdaptiveAvgPool1d",
            "AdaptiveMaxPool1d", "AvgPool1d", "CircularPad1d", "CircularPad2d", "ConstantPad1d",
            "InstanceNorm1d", "MaxPool1d", "MaxUnpool1d", "MaxUnpool2d", "ReflectionPad1d", "ReplicationPad1d", "ZeroPad1d", "Fold",
            "PairwiseDistance", "RMSNorm", "Unfold", "CosineEmbeddingLoss", "GaussianNLLLoss",
            "HingeEmbeddingLoss", "MarginRankingLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss",
            "SoftMarginLoss", "TripletMarginLoss", "RNNBase", "RNN", "LSTM", "GRU", "RNNCell",
            "LSTMCell", "GRUCell", "CTCLoss", "MultiLabelMarginLoss", "MultiMarginLoss", "NLLLoss2d",
            "TripletMarginWithDistanceLoss", "EmbeddingBag", "AdaptiveLogSoftmaxWithLoss"]
__all__ += ["Buffer", "UninitializedParameter", "UninitializedBuffer", "LazyLinear", "LazyConv1d", "LazyConv2d",
            "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyBatchNorm1d", "LazyBatchNorm2d",
            "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyConv3d", "LazyConvTranspose3d", "LazyBatchNorm3d",
            "LazyInstanceNorm3d", "AlphaDropout", "Bilinear", "ChannelShuffle", "Container",
            "FeatureAlphaDropout", "FractionalMaxPool2d", "LocalResponseNorm", "LPPool1d", "LPPool2d", "RNNCellBase"]
__all__ += ["Conv3d", "ConvTranspose3d", "BatchNorm3d", "InstanceNorm3d", "Dropout3d", "MaxPool3d",
            "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "MaxUnpool3d", "ZeroPad3d",
            "ConstantPad3d", "ReflectionPad3d", "ReplicationPad3d", "CircularPad3d"]
__all__ += ["CrossMapLRN2d", "FractionalMaxPool3d", "LPPool3d", "SyncBatchNorm", "LinearCrossEntropyLoss"]

# ``import tensorgan.nn.functional as F``, torch's path, is tensorgan.functional itself (one module).
sys.modules[__name__ + ".functional"] = functional
# ``torch.nn._reduction`` (get_enum / legacy_get_string), also ``F._Reduction``.
_reduction = sys.modules[__name__ + "._reduction"] = functional._Reduction
from . import modules  # noqa: E402,F401  (torch.nn.modules.module.register_module_forward_hook ...)
from . import quantized  # noqa: E402,F401  (torch.nn.quantized.FloatFunctional)

_EINOPS_LAYERS = ("Rearrange", "Reduce", "EinMix")


def __getattr__(name: str):
    """``nn.Rearrange`` / ``nn.Reduce`` / ``nn.EinMix``: einops' layers (tensorgan.einops_layers),
    imported on first use, so ``tensorgan.nn`` does not need einops."""
    if name in _EINOPS_LAYERS:
        from .. import einops_layers
        return getattr(einops_layers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
