"""torchvision.models.vgg for tensorgan: VGG-11/13/16/19 and their batch-norm forms, with
torchvision's module layout (``features`` / ``avgpool`` / ``classifier``, so a converted
torchvision state_dict loads with strict=True and ``features[:35]`` is VGG19's relu5_4 stack)
and its initialisation (kaiming-normal fan_out convolutions, N(0, 0.01) linears, zero biases)."""
from __future__ import annotations

from functools import partial
from typing import Any

from ... import nn
from ...nn import init
from ...tensor import Tensor
from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, _load, _register, _resolve_weights

__all__ = ["VGG", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights",
           "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights", "vgg11",
           "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]


class VGG(nn.Module):
    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    init.constant_(m.weight, 1)
                    init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    init.normal_(m.weight, 0, 0.01)
                    init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def make_layers(cfg: list[Any], batch_norm: bool = False) -> nn.Sequential:
    """The ``features`` stack: an int is a 3x3 conv (+ BatchNorm2d) + ReLU, "M" a 2x2 max-pool."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


cfgs: dict[str, list[Any]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}

_BASE = "https://download.pytorch.org/models/"
_META = {"min_size": (32, 32),
         "recipe": "https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg"}


def _w(file: str, num_params: int, **extra: Any) -> Weights:
    tf = extra.pop("transforms", partial(ImageClassification, crop_size=224))
    return Weights(url=_BASE + file, transforms=tf, meta={**_META, "num_params": num_params, **extra})


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("vgg11-8a719046.pth", 132863336)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("vgg11_bn-6002323d.pth", 132868840)
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("vgg13-19584684.pth", 133047848)
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("vgg13_bn-abd245e5.pth", 133053736)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("vgg16-397923af.pth", 138357544)
    # ported from amdegroot/ssd.pytorch: only ``features`` holds trained values
    IMAGENET1K_FEATURES = _w("vgg16_features-amdegroot-88682ab5.pth", 138357544,
                             transforms=partial(ImageClassification, crop_size=224,
                                                mean=(0.48235, 0.45882, 0.40784),
                                                std=(1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0)),
                             recipe="https://github.com/amdegroot/ssd.pytorch#training-ssd")
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("vgg16_bn-6c64b313.pth", 138365992)
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("vgg19-dcbb9e9d.pth", 143667240)
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("vgg19_bn-c79401a0.pth", 143678248)
    DEFAULT = IMAGENET1K_V1


def _vgg(name: str, cfg: str, batch_norm: bool, weights: Any, enum_cls: type,
         kwargs: dict[str, Any]) -> VGG:
    kwargs.pop("progress", None)
    state = _resolve_weights(name, weights, enum_cls, kwargs)
    if state is not None:
        kwargs["init_weights"] = False       # the file overwrites every value
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
    if state is not None:
        _load(model, state)
    return model


def _builder(name: str, cfg: str, batch_norm: bool, enum_cls: type):
    def build(*args: Any, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
        if args:        # torchvision < 0.13: vgg16(True) meant pretrained=True
            kwargs["pretrained"] = args[0]
        return _vgg(name, cfg, batch_norm, weights, enum_cls, kwargs)
    build.__name__ = build.__qualname__ = name
    build.__doc__ = (f"{name}: VGG configuration \"{cfg}\"{' with batch normalization' if batch_norm else ''} "
                     f"(torchvision.models.{name}). ``weights``: None, or the path / URL of "
                     f"converted weights ({enum_cls.__name__} names torch pickles, refused with "
                     f"the way to convert them); ``**kwargs``: VGG's (num_classes, init_weights, "
                     f"dropout).")
    return _register(build, enum_cls)


vgg11 = _builder("vgg11", "A", False, VGG11_Weights)
vgg11_bn = _builder("vgg11_bn", "A", True, VGG11_BN_Weights)
vgg13 = _builder("vgg13", "B", False, VGG13_Weights)
vgg13_bn = _builder("vgg13_bn", "B", True, VGG13_BN_Weights)
vgg16 = _builder("vgg16", "D", False, VGG16_Weights)
vgg16_bn = _builder("vgg16_bn", "D", True, VGG16_BN_Weights)
vgg19 = _builder("vgg19", "E", False, VGG19_Weights)
vgg19_bn = _builder("vgg19_bn", "E", True, VGG19_BN_Weights)
