"""torchvision.models.alexnet for tensorgan (the "one weird trick" AlexNet torchvision ships,
LPIPS's backbone): same modules and names, torch's default layer initialisation."""
from __future__ import annotations

from functools import partial
from typing import Any

from ... import nn
from ...tensor import Tensor
from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, _load, _register, _resolve_weights

__all__ = ["AlexNet", "AlexNet_Weights", "alexnet"]


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
        transforms=partial(ImageClassification, crop_size=224),
        meta={"num_params": 61100840, "min_size": (63, 63),
              "recipe": "https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg"})
    DEFAULT = IMAGENET1K_V1


def alexnet(*args: Any, weights: Any = None, progress: bool = True, **kwargs: Any) -> AlexNet:
    """AlexNet (torchvision.models.alexnet). ``weights``: None, or the path / URL of converted
    weights (AlexNet_Weights names a torch pickle: refused with the way to convert it);
    ``**kwargs``: AlexNet's (num_classes, dropout)."""
    if args:
        kwargs["pretrained"] = args[0]
    state = _resolve_weights("alexnet", weights, AlexNet_Weights, kwargs)
    model = AlexNet(**kwargs)
    if state is not None:
        _load(model, state)
    return model


_register(alexnet, AlexNet_Weights)
