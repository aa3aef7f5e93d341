"""Central-difference gradient checking in float64, as ``torch.autograd.gradcheck`` does.

For an output y = fn(*inputs) and a random vector v, backward(v) gives the analytic vector-Jacobian
product J^T v for every input; perturbing each input element by +-eps and differencing <fn(..), v>
gives the same numbers numerically. Two random v's are tried, so a wrong gradient cannot hide in a
direction that one v happens to miss.

Complex inputs and outputs (complex128) follow torch's convention, the conjugate Wirtinger
derivative times 2: for the real number L = sum(Re(conj(v) * out)) (v complex random for a complex
output, real for a real one), ``autograd.grad(out, z, grad_outputs=v)`` must equal
``dL/dRe(z) + 1j * dL/dIm(z)`` (central differences on the real and the imaginary part of each
element separately); a real input's gradient is ``dL/dx`` and must come back real.

``gradgradcheck`` checks second derivatives the same way: it gradchecks the function
x -> d<fn(x), u>/dx (for a fixed random u), whose analytic gradient comes from
``create_graph=True``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .errors import ConfigError, DTypeError, InputTypeError, ShapeError, TensorganError
from .tensor import Tensor, complex128, enable_grad, float64, no_grad


class GradcheckError(TensorganError, AssertionError):
    """Analytic and numeric gradients disagree."""


def _output(fn: Callable, inputs: Sequence[Tensor]) -> Tensor:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


_TORCH_FLAGS = ("nondet_tol", "check_undefined_grad", "check_grad_dtypes", "check_batched_grad",
                "check_batched_forward_grad", "fast_mode", "masked")


def _torch_form(name: str, fn: Callable, inputs: Any, flags: dict) -> tuple:
    """torch's calling forms: ``inputs`` a Tensor or a sequence; ``fn`` may return a tuple (each
    float or complex output is checked); torch's keyword flags that only change speed or coverage are
    accepted (``fast_mode``, ``check_batched_grad``, ...)."""
    unknown = set(flags) - set(_TORCH_FLAGS)
    if unknown:
        raise InputTypeError(f"{name}() got unexpected keyword arguments {sorted(unknown)} "
                             f"(torch's flags it accepts: {', '.join(_TORCH_FLAGS)})")
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        # torch's ValueError: with nothing to differentiate the check would pass vacuously
        raise ConfigError(f"{name} expects at least one input tensor to require gradient, but "
                          f"none of the {len(inputs)} inputs has requires_grad=True")
    probe = fn(*inputs)     # in the caller's grad mode, as torch's (fn may take gradients itself)
    if isinstance(probe, (tuple, list)):
        picks = [k for k, o in enumerate(probe) if isinstance(o, Tensor) and o.dtype.kind in "fc"]
        return inputs, [(lambda *xs, k=k: fn(*xs)[k]) for k in picks]
    return inputs, [fn]


def gradcheck(fn: Callable[..., Tensor], inputs: Any, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, projections: int = 2, seed: int = 0, *,
              raise_exception: bool = True, check_backward_ad: bool = True,
              check_forward_ad: bool = False, **flags: Any) -> bool:
    """Check the gradients of ``fn`` w.r.t. every input with ``requires_grad`` against central
    differences; raise on mismatch (``raise_exception=False``: return False).  torch's forms:
    ``inputs`` a Tensor or a tuple, ``fn`` returning a Tensor or a tuple of them;
    ``check_forward_ad=True`` also checks Jacobian-vector products (``tensorgan.func.jvp``, so a
    custom Function with a ``jvp`` and no ``backward`` is checked through forward_ad instead)."""
    inputs, fns = _torch_form("gradcheck", fn, inputs, flags)
    try:
        for f in fns:
            if check_backward_ad:
                _gradcheck(f, inputs, eps, atol, rtol, projections, seed)
            if check_forward_ad:
                _forward_check(f, inputs, eps, atol, rtol, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _forward_check(fn: Callable, inputs: tuple, eps: float, atol: float, rtol: float,
                   seed: int) -> None:
    """J @ t from forward-mode AD against (fn(x + eps t) - fn(x - eps t)) / 2 eps."""
    from .autograd import forward_ad as fwAD
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed + 7)
    for i in checked:
        x = inputs[i]
        t = Tensor._from(_random(rng, x.shape, x.dtype), dtype=x.dtype, device=x.device)
        with fwAD.dual_level():
            args = list(inputs)
            args[i] = fwAD.make_dual(x, t)
            tangent = fwAD.unpack_dual(fn(*args)).tangent
        with no_grad():
            args = list(inputs)
            args[i] = x.detach() + eps * t
            plus = _output(fn, args).numpy()
            args[i] = x.detach() - eps * t
            minus = _output(fn, args).numpy()
        numeric = (plus - minus) / (2 * eps)
        analytic = np.zeros(numeric.shape) if tangent is None else tangent.numpy()
        _compare(i, x.shape, analytic, numeric, atol, rtol)


_CHECKED_DTYPES = (float64, complex128)


def _random(rng: np.random.Generator, shape: tuple, dtype: Any) -> np.ndarray:
    """A standard normal array, complex (independent real and imaginary parts) for a complex dtype."""
    v = rng.standard_normal(shape)
    return v + 1j * rng.standard_normal(shape) if np.dtype(dtype).kind == "c" else v


def _gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Tensor], eps: float = 1e-6,
               atol: float = 1e-5, rtol: float = 1e-3, projections: int = 2, seed: int = 0) -> bool:
    from . import autograd
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for t in inputs:
        if isinstance(t, Tensor) and t.dtype not in _CHECKED_DTYPES:
            raise DTypeError(f"gradcheck needs float64 or complex128 inputs, got {t.dtype} "
                             f"(shape {t.shape})")
    rng = np.random.default_rng(seed)
    vs, analytics = [], []
    for _ in range(projections):
        out = _output(fn, inputs)
        xp = out.device.xp
        v = xp.asarray(_random(rng, out.shape, out.dtype))
        with enable_grad():     # autograd.grad: a non-leaf input (x.clone()) is checked too
            got = autograd.grad(out, [inputs[i] for i in checked], Tensor._make(v, out.device),
                                allow_unused=True) if out.requires_grad else [None] * len(checked)
        analytic = [g.numpy() if g is not None else np.zeros(inputs[i].shape) for i, g in zip(checked, got)]
        for i, a in zip(checked, analytic):
            if a.dtype.kind == "c" and inputs[i].dtype.kind != "c":
                raise GradcheckError(f"gradcheck failed for input {i} (shape {tuple(inputs[i].shape)}): "
                                     f"its gradient is {a.dtype} for a real input")
        vs.append(v)
        analytics.append(analytic)
    # One pair of perturbed evaluations per element serves every projection; the comparisons then
    # go in the order one projection at a time would have made them.
    numerics = {i: _numeric_vjps(fn, inputs, i, vs, eps) for i in checked}
    for p, analytic in enumerate(analytics):
        for i, a in zip(checked, analytic):
            _compare(i, inputs[i].shape, a, numerics[i][p], atol, rtol)
    return True


def _numeric_vjps(fn, inputs, i: int, vs: Sequence, eps: float) -> list:
    """For each v of ``vs``: dL/dx (dL/dRe + 1j dL/dIm for a complex input) of
    L = sum(Re(conj(v) * fn(*inputs))), x = inputs[i]; fn runs twice per element (and step) for all
    of them."""
    data = inputs[i].array
    steps = (1.0, 1j) if data.dtype.kind == "c" else (1.0,)
    numerics = [np.zeros(data.size, dtype=data.dtype) for _ in vs]
    vcs = [v.conjugate() for v in vs]

    def losses() -> list:
        out = _output(fn, inputs).array
        return [float((out * vc).real.sum()) for vc in vcs]
    # fn runs in the caller's grad mode, as in torch's numeric pass: a gradient penalty (fn calls
    # autograd.grad(..., create_graph=True) on its input) is checked as there.  Each element is
    # written through its index, not a reshape(-1) (a copy for a non-contiguous input: the
    # perturbation never reached fn, the numeric gradient was 0); .item(), not a 0-d view (CuPy)
    for k, at in enumerate(np.ndindex(data.shape)):
        orig = data[at].item()
        for step in steps:
            data[at] = orig + eps * step
            plus = losses()
            data[at] = orig - eps * step
            minus = losses()
            data[at] = orig
            for numeric, p, m in zip(numerics, plus, minus):
                numeric[k] += step * (p - m) / (2 * eps)
    return [numeric.reshape(data.shape) for numeric in numerics]


def _compare(i: int, shape, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> None:
    bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
    if bad.any():
        idx = tuple(int(j) for j in np.argwhere(bad)[0])
        raise GradcheckError(f"gradcheck failed for input {i} (shape {tuple(shape)}) at index {idx}: "
                             f"analytic {_fmt(analytic[idx])} vs numeric {_fmt(numeric[idx])} "
                             f"({int(bad.sum())} of {bad.size} elements differ)")


def _fmt(x: Any) -> str:
    x = x.item() if hasattr(x, "item") else x
    return f"{x:.10g}" if not isinstance(x, complex) else f"({x.real:.10g}{x.imag:+.10g}j)"


def gradgradcheck(fn: Callable[..., Tensor], inputs: Any, grad_outputs: Any = None,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, projections: int = 2,
                  seed: int = 0, *, raise_exception: bool = True, gen_non_contig_grad_outputs: bool = False,
                  **flags: Any) -> bool:
    """gradcheck of the first gradients (see ``_gradgradcheck``), in torch's forms (as gradcheck).
    ``grad_outputs`` (a Tensor, or a tuple of them, one per float output of ``fn``): the vectors
    the first gradients are taken against, instead of random ones; as in torch, those with
    ``requires_grad`` are checked as inputs too (the first gradient's derivative w.r.t. them)."""
    inputs, fns = _torch_form("gradgradcheck", fn, inputs, flags)
    if grad_outputs is None:
        given: list[Any] = [None] * len(fns)
    else:
        given = [grad_outputs] if isinstance(grad_outputs, Tensor) else (
            list(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else None)
        if given is None or not all(isinstance(u, Tensor) for u in given):
            raise InputTypeError(f"gradgradcheck: grad_outputs must be a Tensor or a tuple of "
                                 f"Tensors, got {type(grad_outputs).__name__}")
        if len(given) != len(fns):
            raise ShapeError(f"gradgradcheck: got {len(given)} grad_outputs for {len(fns)} "
                             f"differentiable outputs of fn")
    try:
        for f, u in zip(fns, given):
            _gradgradcheck(f, inputs, eps, atol, rtol, projections, seed, grad_output=u)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _gradgradcheck(fn: Callable[..., Tensor], inputs: Sequence[Tensor], eps: float = 1e-6,
                   atol: float = 1e-5, rtol: float = 1e-3, projections: int = 2, seed: int = 0,
                   grad_output: Tensor | None = None) -> bool:
    """Check the gradients of the gradients (``create_graph=True``) of ``fn``: gradcheck of
    ``x -> concat of d<fn(x), u>/dx_i`` over the inputs with ``requires_grad``, u fixed
    (``grad_output``, else random with ``requires_grad``, as torch draws it), after checking that this first gradient equals the one plain
    ``backward`` gives.  A ``grad_output`` with ``requires_grad`` is one more checked input of
    that function.  The first gradient must depend on the inputs (fn not linear in all of them)."""
    from . import autograd
    from .factory import cat
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    out = _output(fn, inputs)     # the caller's grad mode, as gradcheck's passes
    if grad_output is None:   # random, and checked as an input too (torch's make_tensor(..., requires_grad=True))
        grad_output = Tensor._from(_random(np.random.default_rng(seed + 1), out.shape, out.dtype),
                                   dtype=out.dtype, device=out.device, requires_grad=True)
        u = grad_output
    else:
        if tuple(grad_output.shape) != tuple(out.shape):
            raise ShapeError(f"gradgradcheck: grad_outputs has shape {tuple(grad_output.shape)}, "
                             f"the output of fn has {tuple(out.shape)}")
        u = grad_output
    n = len(inputs)

    def first_gradients(*xs: Tensor) -> Tensor:
        xs, v = (xs[:n], xs[n]) if len(xs) > n else (xs, u)
        with enable_grad():   # under gradgradcheck's own no_grad passes below
            grads = autograd.grad(fn(*xs), [xs[i] for i in checked], grad_outputs=v,
                                  create_graph=True, allow_unused=True)
            return cat([(g if g is not None else xs[i] * 0.0).reshape(-1)
                        for i, g in zip(checked, grads)])

    with no_grad():     # the first gradient itself: as the array backward (gradchecked) gives it
        plain = first_gradients(*inputs).numpy()
        with enable_grad():
            grads = autograd.grad(fn(*inputs), [inputs[i] for i in checked],
                                  grad_outputs=u.detach(), allow_unused=True)
    expected = np.concatenate([(g.numpy() if g is not None else np.zeros(inputs[i].shape)).reshape(-1)
                               for i, g in zip(checked, grads)])
    _compare(-1, plain.shape, plain, expected, atol, rtol)
    if grad_output.requires_grad:
        return _gradcheck(first_gradients, (*inputs, grad_output), eps, atol, rtol, projections, seed)
    return _gradcheck(first_gradients, inputs, eps, atol, rtol, projections, seed)
