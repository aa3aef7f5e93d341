"""torchvision.transforms for tensorgan: ``from tensorgan.vision import transforms`` (the classes)
and ``tensorgan.vision.transforms.functional`` (the functions)."""
from . import functional
from .functional import InterpolationMode
from .transforms import (CenterCrop, ColorJitter, Compose, ConvertImageDtype, FiveCrop,
                         GaussianBlur, Grayscale, Lambda, LinearTransformation, Normalize, Pad,
                         PILToTensor, RandomAffine, RandomApply, RandomChoice, RandomCrop,
                         RandomErasing, RandomGrayscale, RandomHorizontalFlip, RandomOrder,
                         RandomResizedCrop, RandomRotation, RandomTransforms, RandomVerticalFlip,
                         Resize, Scale, TenCrop, ToPILImage, ToTensor)

__all__ = ["functional", "InterpolationMode", "CenterCrop", "Compose", "ConvertImageDtype",
           "Grayscale", "Lambda", "Normalize", "Pad", "PILToTensor", "RandomApply", "RandomCrop",
           "RandomHorizontalFlip", "RandomResizedCrop", "RandomVerticalFlip", "Resize",
           "ToPILImage", "ToTensor", "ColorJitter", "GaussianBlur", "RandomAffine",
           "RandomChoice", "RandomGrayscale", "RandomOrder", "RandomRotation", "RandomTransforms",
           "Scale", "FiveCrop", "TenCrop", "LinearTransformation", "RandomErasing"]
