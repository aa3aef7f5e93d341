"""torchvision.models.squeezenet for tensorgan: SqueezeNet 1.0 / 1.1 (LPIPS's ``squeeze``
trunk uses ``squeezenet1_1().features``) with torchvision's module layout (``features`` of Fire
modules -- ``squeeze`` / ``expand1x1`` / ``expand3x3`` -- and a ``classifier`` of Dropout, a 1x1
conv, ReLU and a global average pool), so converted torchvision weights load with strict=True,
and its initialisation (kaiming-uniform convolutions, N(0, 0.01) final conv, zero biases)."""
from __future__ import annotations

from functools import partial
from typing import Any

from ... import nn
from ...factory import cat
from ...errors import ConfigError
from ...nn import init
from ...tensor import Tensor
from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, _load, _register, _resolve_weights

__all__ = ["SqueezeNet", "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights", "squeezenet1_0",
           "squeezenet1_1", "Fire"]


class Fire(nn.Module):
    """A 1x1 ``squeeze`` conv + ReLU, then 1x1 and 3x3 ``expand`` convs (+ ReLU) concatenated
    along channels: ``expand1x1_planes + expand3x3_planes`` output channels."""

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int,
                 expand3x3_planes: int) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return cat([self.expand1x1_activation(self.expand1x1(x)),
                    self.expand3x3_activation(self.expand3x3(x))], 1)


# (kind, args): "conv" = (out, kernel, stride) first conv, "pool" = 3x3/2 ceil-mode max-pool,
# "fire" = Fire(inplanes, squeeze, expand1x1, expand3x3)
_LAYOUT = {
    "1_0": [("conv", (96, 7)), ("pool",), ("fire", (96, 16, 64, 64)), ("fire", (128, 16, 64, 64)),
            ("fire", (128, 32, 128, 128)), ("pool",), ("fire", (256, 32, 128, 128)),
            ("fire", (256, 48, 192, 192)), ("fire", (384, 48, 192, 192)),
            ("fire", (384, 64, 256, 256)), ("pool",), ("fire", (512, 64, 256, 256))],
    "1_1": [("conv", (64, 3)), ("pool",), ("fire", (64, 16, 64, 64)), ("fire", (128, 16, 64, 64)),
            ("pool",), ("fire", (128, 32, 128, 128)), ("fire", (256, 32, 128, 128)), ("pool",),
            ("fire", (256, 48, 192, 192)), ("fire", (384, 48, 192, 192)),
            ("fire", (384, 64, 256, 256)), ("fire", (512, 64, 256, 256))],
}


class SqueezeNet(nn.Module):
    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        if version not in _LAYOUT:
            raise ConfigError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")
        self.num_classes = num_classes
        layers: list[nn.Module] = []
        for entry in _LAYOUT[version]:
            if entry[0] == "conv":
                out, k = entry[1]
                layers += [nn.Conv2d(3, out, kernel_size=k, stride=2), nn.ReLU(inplace=True)]
            elif entry[0] == "pool":
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True))
            else:
                layers.append(Fire(*entry[1]))
        self.features = nn.Sequential(*layers)
        # the final convolution is initialised differently from the rest
        final_conv = nn.Conv2d(512, self.num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.classifier(self.features(x))
        return x.flatten(1)


_META = {"recipe": "https://github.com/pytorch/vision/pull/49#issuecomment-277560717"}


class SqueezeNet1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url="https://download.pytorch.org/models/squeezenet1_0-b66bff10.pth",
        transforms=partial(ImageClassification, crop_size=224),
        meta={**_META, "min_size": (21, 21), "num_params": 1248424})
    DEFAULT = IMAGENET1K_V1


class SqueezeNet1_1_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url="https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
        transforms=partial(ImageClassification, crop_size=224),
        meta={**_META, "min_size": (17, 17), "num_params": 1235496})
    DEFAULT = IMAGENET1K_V1


def _builder(name: str, version: str, enum_cls: type, doc: str):
    def build(*args: Any, weights: Any = None, progress: bool = True, **kwargs: Any) -> SqueezeNet:
        if args:        # torchvision < 0.13: squeezenet1_1(True) meant pretrained=True
            kwargs["pretrained"] = args[0]
        state = _resolve_weights(name, weights, enum_cls, kwargs)
        model = SqueezeNet(version, **kwargs)
        if state is not None:
            _load(model, state)
        return model
    build.__name__ = build.__qualname__ = name
    build.__doc__ = (f"{doc} (torchvision.models.{name}). ``weights``: None, or the path / URL "
                     f"of converted weights ({enum_cls.__name__} names a torch pickle: refused "
                     f"with the way to convert it); ``**kwargs``: SqueezeNet's (num_classes, "
                     f"dropout).")
    return _register(build, enum_cls)


squeezenet1_0 = _builder("squeezenet1_0", "1_0", SqueezeNet1_0_Weights,
                         "SqueezeNet (AlexNet-level accuracy with 50x fewer parameters); input >= 21x21")
squeezenet1_1 = _builder("squeezenet1_1", "1_1", SqueezeNet1_1_Weights,
                         "SqueezeNet 1.1 (2.4x less computation than 1.0); input >= 17x17")
