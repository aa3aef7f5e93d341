"""torchvision's data side for tensorgan: ``import tensorgan.vision as torchvision`` or
``from tensorgan.vision import datasets, transforms, utils as vutils`` runs a GAN script's
``datasets.MNIST(root, download=True, transform=transforms.Compose([...]))``,
``datasets.ImageFolder`` and ``vutils.save_image(fake, path, normalize=True)`` as written.

- :mod:`~tensorgan.vision.transforms`: Compose, ToTensor, Normalize, Resize, CenterCrop,
  RandomCrop, flips, Grayscale, Pad, ColorJitter, RandomRotation, RandomAffine, GaussianBlur, ...
  on PIL images and tensors (``.functional`` too; differentiable on float tensors);
- :mod:`~tensorgan.vision.datasets`: MNIST, FashionMNIST, CIFAR10 / CIFAR100 (the binary versions),
  ImageFolder, DatasetFolder, FakeData;
- :mod:`~tensorgan.vision.utils`: make_grid, save_image;
- :mod:`~tensorgan.vision.models`: vgg11..19(_bn), alexnet, resnet18..152, inception_v3 with
  torchvision's module names (converted torchvision weights load with strict=True).
"""
from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
