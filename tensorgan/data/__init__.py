"""Datasets and batching: MNIST IDX files (with the test set bundled), image folders, DataLoader,
and torch.utils.data's samplers and dataset combinators.

Pure NumPy + Pillow; nothing here depends on the Tensor engine. Images are held as uint8
(N, C, H, W); the DataLoader turns them into float32 batches in [-1, 1].
"""

from .combine import (ChainDataset, ConcatDataset, IterableDataset, StackDataset, Subset,
                      random_split)
from .dataset import ArrayDataset, Dataset, TensorDataset
from .folder import ImageFolder
from .idx import is_gzip, read_idx, write_idx
from .loader import DataLoader, default_collate, default_convert, get_worker_info, to_unit_range
from .mnist import (MNIST_FILES, MNIST_GZ_SHA256, MNIST_MIRRORS, MNIST_RAW_SHA256, MnistDataset,
                    default_cache_dir, download_mnist, load_bundled_mnist, load_mnist,
                    locate_mnist, mnist_dataset)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = [
    "ArrayDataset", "Dataset", "TensorDataset", "DataLoader", "ImageFolder", "MnistDataset", "default_collate",
    "download_mnist", "default_cache_dir", "is_gzip", "load_bundled_mnist", "load_mnist",
    "locate_mnist", "mnist_dataset", "read_idx", "to_unit_range", "write_idx",
    "BatchSampler", "ChainDataset", "ConcatDataset", "IterableDataset", "RandomSampler", "Sampler",
    "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler", "WeightedRandomSampler",
    "default_convert", "get_worker_info", "random_split",
    "MNIST_FILES", "MNIST_GZ_SHA256", "MNIST_MIRRORS", "MNIST_RAW_SHA256",
]
