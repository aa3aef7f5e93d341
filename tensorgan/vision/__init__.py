"""torchvision's data side for tensorgan: ``import tensorgan.vision as torchvision`` or
``from tensorgan.vision import datasets, transforms, utils as vutils`` runs a GAN script's
``datasets.MNIST(root, download=True, transform=transforms.Compose([...]))``,
``datasets.ImageFolder`` and ``vutils.save_image(fake, path, normalize=True)`` as written.

- :mod:`~tensorgan.vision.transforms`: Compose, ToTensor, Normalize, Resize, CenterCrop,
  RandomCrop, flips, Grayscale, Pad, ColorJitter, RandomRotation, RandomAffine, GaussianBlur, ...
  on PIL images and tensors (``.functional`` too; differentiable on float tensors);
- :mod:`~tensorgan.vision.datasets`: MNIST, FashionMNIST, KMNIST, EMNIST, QMNIST, CIFAR10 / CIFAR100 (the binary versions),
  ImageFolder, DatasetFolder, FakeData;
- :mod:`~tensorgan.vision.utils`: make_grid, save_image;
- :mod:`~tensorgan.vision.models`: vgg11..19(_bn), alexnet, resnet18..152, inception_v3 with
  torchvision's module names (converted torchvision weights load with strict=True).
"""
from ..errors import ConfigError
from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils", "get_image_backend", "set_image_backend"]

_image_backend = "PIL"


def get_image_backend() -> str:
    """torchvision's: the package that loads images ("PIL"; dataset loaders such as TUNIT's
    ``default_loader`` ask before opening a file)."""
    return _image_backend


def set_image_backend(backend: str) -> None:
    """torchvision's: choose the image loader. Only "PIL" is here (accimage, torchvision's
    other choice, is not installed with tensorgan); anything else is refused."""
    global _image_backend
    if backend not in ("PIL", "accimage"):
        raise ConfigError(f"set_image_backend: invalid backend '{backend}'. Options are 'PIL' and "
                          f"'accimage'")
    if backend == "accimage":
        raise ConfigError("set_image_backend('accimage'): tensorgan.vision loads images with PIL "
                          "only (accimage is not supported)")
    _image_backend = backend

