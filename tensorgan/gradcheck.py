"""Central-difference gradient checking in float64, as ``torch.autograd.gradcheck`` does.

For an output y = fn(*inputs) and a random vector v, backward(v) gives the analytic vector-Jacobian
product J^T v for every input; perturbing each input element by +-eps and differencing <fn(..), v>
gives the same numbers numerically. Two random v's are tried, so a wrong gradient cannot hide in a
direction that one v happens to miss.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .errors import DTypeError, TensorganError
from .tensor import Tensor, float64, no_grad


class GradcheckError(TensorganError, AssertionError):
    """Analytic and numeric gradients disagree."""


def _output(fn: Callable, inputs: Sequence[Tensor]) -> Tensor:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Tensor], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, projections: int = 2, seed: int = 0) -> bool:
    """Check the gradients of ``fn`` w.r.t. every input with ``requires_grad``; raise on mismatch."""
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for t in inputs:
        if isinstance(t, Tensor) and t.dtype != float64:
            raise DTypeError(f"gradcheck needs float64 inputs, got {t.dtype} (shape {t.shape})")
    rng = np.random.default_rng(seed)
    for _ in range(projections):
        out = _output(fn, inputs)
        xp = out.device.xp
        v = xp.asarray(rng.standard_normal(out.shape))
        for i in checked:
            inputs[i].grad = None
        out.backward(v)
        analytic = {i: (inputs[i].grad.numpy() if inputs[i].grad is not None
                        else np.zeros(inputs[i].shape)) for i in checked}
        for i in checked:
            numeric = _numeric_vjp(fn, inputs, i, v, eps)
            _compare(i, inputs[i].shape, analytic[i], numeric, atol, rtol)
    for i in checked:
        inputs[i].grad = None
    return True


def _numeric_vjp(fn, inputs, i: int, v, eps: float) -> np.ndarray:
    data = inputs[i].data
    flat = data.reshape(-1)  # a view: writing it perturbs the input in place
    numeric = np.zeros(data.size)
    with no_grad():
        for k in range(data.size):
            orig = float(flat[k])
            flat[k] = orig + eps
            plus = float((_output(fn, inputs).data * v).sum())
            flat[k] = orig - eps
            minus = float((_output(fn, inputs).data * v).sum())
            flat[k] = orig
            numeric[k] = (plus - minus) / (2 * eps)
    return numeric.reshape(data.shape)


def _compare(i: int, shape, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> None:
    bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
    if bad.any():
        idx = tuple(int(j) for j in np.argwhere(bad)[0])
        raise GradcheckError(f"gradcheck failed for input {i} (shape {tuple(shape)}) at index {idx}: "
                             f"analytic {analytic[idx]:.10g} vs numeric {numeric[idx]:.10g} "
                             f"({int(bad.sum())} of {bad.size} elements differ)")
