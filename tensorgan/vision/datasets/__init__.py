"""torchvision.datasets for tensorgan: MNIST, FashionMNIST, ImageFolder, DatasetFolder, FakeData."""
from .fakedata import FakeData
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, pil_loader
from .mnist import MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = ["FakeData", "DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader",
           "pil_loader", "MNIST", "FashionMNIST", "StandardTransform", "VisionDataset"]
