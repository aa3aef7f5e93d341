"""torch.distributions.utils: the helpers the families share (broadcast_all, lazy_property,
probs <-> logits) and the row-order packing of a lower triangle into a vector and back."""
from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from .discrete import clamp_probs, logits_to_probs, probs_to_logits
from .distribution import broadcast_all, lazy_property, sum_rightmost as _sum_rightmost

__all__ = ["broadcast_all", "clamp_probs", "euler_constant", "lazy_property", "logits_to_probs",
           "probs_to_logits", "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060


def _tril_mask(n: int, diag: int) -> np.ndarray:
    """Row-major flat positions (of an n x n matrix) of the entries on or below diagonal ``diag``."""
    ar = np.arange(n)
    return np.flatnonzero(ar[None, :] < ar[:, None] + (diag + 1))


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of ``mat``'s (..., D, D) lower triangle (on and below diagonal ``diag``) in
    row order, as a (..., N) vector (differentiable)."""
    n = mat.shape[-1]
    if not -n <= diag < n:
        raise ShapeError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    flat = mat.reshape(tuple(mat.shape[:-2]) + (mat.shape[-2] * n,))
    return flat[..., Tensor._from(_tril_mask(n, diag), device=mat.device)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of ``tril_matrix_to_vec``: a (..., N) vector as the lower triangle (row order)
    of a (..., D, D) matrix, zeros elsewhere (differentiable)."""
    root = (-(1 + 2 * diag) + math.sqrt((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1))) / 2
    n = round(root)
    if abs(n - root) > 1e-6 or len(_tril_mask(n, diag)) != vec.shape[-1]:
        raise ShapeError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    index = np.zeros(n * n, np.int64)
    index[_tril_mask(n, diag)] = np.arange(1, vec.shape[-1] + 1)
    from ..factory import cat
    padded = cat([vec.new_zeros(tuple(vec.shape[:-1]) + (1,)), vec], -1)
    return padded[..., Tensor._from(index, device=vec.device)].reshape(tuple(vec.shape[:-1]) + (n, n))
