"""Central-difference gradient checking in float64, as ``torch.autograd.gradcheck`` does.

For an output y = fn(*inputs) and a random vector v, backward(v) gives the analytic vector-Jacobian
product J^T v for every input; perturbing each input element by +-eps and differencing <fn(..), v>
gives the same numbers numerically. Two random v's are tried, so a wrong gradient cannot hide in a
direction that one v happens to miss.

``gradgradcheck`` checks second derivatives the same way: it gradchecks the function
x -> d<fn(x), u>/dx (for a fixed random u), whose analytic gradient comes from
``create_graph=True``.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .errors import DTypeError, TensorganError
from .tensor import Tensor, enable_grad, float64, no_grad


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
    data = inputs[i].array
    flat = data.reshape(-1)  # a view: writing it perturbs the input in place
    numeric = np.zeros(data.size)
    with no_grad():
        for k in range(data.size):
            orig = float(flat[k])
            flat[k] = orig + eps
            plus = float((_output(fn, inputs).array * v).sum())
            flat[k] = orig - eps
            minus = float((_output(fn, inputs).array * v).sum())
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


def gradgradcheck(fn: Callable[..., Tensor], inputs: Sequence[Tensor], eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, projections: int = 2, seed: int = 0) -> bool:
    """Check the gradients of the gradients (``create_graph=True``) of ``fn``: gradcheck of
    ``x -> concat of d<fn(x), u>/dx_i`` over the inputs with ``requires_grad``, u fixed and random,
    after checking that this first gradient equals the one plain ``backward`` gives.  The first
    gradient must depend on the inputs (fn not linear in all of them)."""
    from . import autograd
    from .factory import cat
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    with no_grad():
        out = _output(fn, inputs)
    u = Tensor._from(np.random.default_rng(seed + 1).standard_normal(out.shape), dtype=out.dtype,
               device=out.device)

    def first_gradients(*xs: Tensor) -> Tensor:
        with enable_grad():   # gradcheck's numeric pass runs fn under no_grad
            grads = autograd.grad(fn(*xs), [xs[i] for i in checked], grad_outputs=u,
                                  create_graph=True, allow_unused=True)
            return cat([(g if g is not None else xs[i] * 0.0).reshape(-1)
                        for i, g in zip(checked, grads)])

    with no_grad():     # the first gradient itself: as the array backward (gradchecked) gives it
        plain = first_gradients(*inputs).numpy()
        with enable_grad():
            grads = autograd.grad(fn(*inputs), [inputs[i] for i in checked], grad_outputs=u,
                                  allow_unused=True)
    expected = np.concatenate([(g.numpy() if g is not None else np.zeros(inputs[i].shape)).reshape(-1)
                               for i, g in zip(checked, grads)])
    _compare(-1, plain.shape, plain, expected, atol, rtol)
    return gradcheck(first_gradients, inputs, eps, atol, rtol, projections, seed)
