"""torchvision.datasets for tensorgan: MNIST, FashionMNIST, KMNIST, EMNIST, QMNIST, CIFAR10, CIFAR100 (binary versions),
ImageFolder, DatasetFolder, FakeData."""
from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, pil_loader
from .mnist import EMNIST, KMNIST, MNIST, QMNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "FakeData", "DatasetFolder", "ImageFolder", "IMG_EXTENSIONS",
           "default_loader", "pil_loader", "MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST",
           "StandardTransform", "VisionDataset"]
