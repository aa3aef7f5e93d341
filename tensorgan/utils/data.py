"""``torch.utils.data``'s names for tensorgan's data loading (see :mod:`tensorgan.data`)."""
from ..data import (ArrayDataset, BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset,
                    IterableDataset, RandomSampler, Sampler, SequentialSampler, StackDataset, Subset,
                    SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
                    default_convert, get_worker_info, random_split)

__all__ = ["ArrayDataset", "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset",
           "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "default_collate", "default_convert", "get_worker_info", "random_split"]
