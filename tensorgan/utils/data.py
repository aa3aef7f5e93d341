"""``torch.utils.data``'s names for tensorgan's data loading (see :mod:`tensorgan.data`)."""
from ..data import ArrayDataset, DataLoader, Dataset, TensorDataset, default_collate

__all__ = ["ArrayDataset", "DataLoader", "Dataset", "TensorDataset", "default_collate"]
