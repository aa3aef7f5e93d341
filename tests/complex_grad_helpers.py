"""Central differences for complex tensors, shared by the complex test files (pytest's default
import mode puts tests/ on sys.path): torch's convention, z.grad = dL/dRe z + i dL/dIm z for a
real loss L."""
import numpy as np

import tensorgan as tg


def numeric_grad(f, arrays, i, h=1e-6):
    """dL/dRe + i dL/dIm of the real scalar ``f(*tensors)`` for input ``i`` (central differences)."""
    def loss(values):
        return float(f(*[tg.tensor(v) for v in values]).item())
    base = [np.array(a, dtype=np.result_type(a, np.float64)) for a in arrays]
    grad = np.zeros(base[i].shape, dtype=base[i].dtype)
    for idx in np.ndindex(base[i].shape):
        steps = (1.0, 1j) if base[i].dtype.kind == "c" else (1.0,)
        for step in steps:
            plus, minus = [b.copy() for b in base], [b.copy() for b in base]
            plus[i][idx] += h * step
            minus[i][idx] -= h * step
            grad[idx] += step * (loss(plus) - loss(minus)) / (2 * h)
    return grad


def real_loss(out, weights):
    """A real scalar of any (real or complex) output: sum(Re out * w0 + Im out * w1)."""
    if out.is_complex():
        return (tg.view_as_real(out) * tg.tensor(weights)).sum()
    return (out * tg.tensor(weights[..., 0])).sum()
