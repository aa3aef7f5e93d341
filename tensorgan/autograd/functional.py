"""torch's ``torch.autograd.functional``: Jacobians, Hessians and their products as functions.

``vjp(f, x, v)`` is one backward; ``jvp`` uses torch's double-vjp trick (a backward from zero
grad_outputs that require grad, then a backward of that with respect to them), as tensorgan has
no forward mode; ``jacobian`` is one backward per output element (``vectorize=True`` is accepted
and computes the same by that loop: there is no vmap); ``hessian`` the jacobian of the jacobian;
``vhp`` / ``hvp`` two backwards (a Hessian is symmetric, so ``hvp`` is computed as ``vhp``).

Inputs and outputs: a Tensor or a tuple of Tensors each, and the results follow torch's
structure (a tuple where the inputs, or the outputs, were a tuple; nested for both).  Results are
detached unless ``create_graph=True``; ``strict=True`` refuses an output that does not depend on
an input instead of returning zeros.
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import AutogradError, ConfigError, InputTypeError, ShapeError
from ..factory import stack, zeros_like
from ..grad_mode import enable_grad
from ..tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]

def _as_tuple(value: Any, what: str, fn: str) -> tuple[bool, tuple]:
    """(whether ``value`` was a tuple or list, it as a tuple of Tensors)."""
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"{what}[{i}]" if is_tuple else what
            raise InputTypeError(f"{fn}: {where} must be a Tensor (or the whole a tuple of "
                                 f"Tensors), got {type(t).__name__}")
    return is_tuple, items


def _tuple_postprocess(res: Any, to_unpack: Any) -> Any:
    """Undo ``_as_tuple``: ``to_unpack`` one flag, or (outer, inner) flags for nested results."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(r[0] for r in res)
        return res if to_unpack[0] else res[0]
    return res if to_unpack else res[0]


def _preprocess(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs to differentiate with respect to: with ``create_graph``, an input that already
    requires grad stays in its graph (an identity op on it); otherwise a detached copy."""
    return tuple(t.view_as(t) if create_graph and t._requires_grad
                 else t.detach().requires_grad_(True) for t in inputs)


def _postprocess(values: Any, create_graph: bool) -> Any:
    if isinstance(values, tuple):
        return tuple(_postprocess(v, create_graph) for v in values)
    return values if create_graph or values is None else values.detach()


def _grads(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None,
           create_graph: bool = False) -> tuple:
    """autograd.grad of the outputs that require grad (None for an input none of them uses)."""
    from . import grad
    keep = [i for i, out in enumerate(outputs) if out._requires_grad]
    if not keep:
        return (None,) * len(inputs)
    wanted = [i for i, t in enumerate(inputs) if t._requires_grad]
    got = grad([outputs[i] for i in keep], [inputs[i] for i in wanted],
               None if grad_outputs is None else [grad_outputs[i] for i in keep],
               retain_graph=True, create_graph=create_graph, allow_unused=True)
    result: list = [None] * len(inputs)
    for i, g in zip(wanted, got):
        result[i] = g
    return tuple(result)


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, fn: str, what: str) -> tuple:
    """None gradients as zeros of their reference's shape; refused with ``strict``."""
    if strict:
        for i, g in enumerate(grads):
            if g is None:
                raise AutogradError(f"{fn}: {what} is independent of input {i}. This is not "
                                     f"allowed in strict mode.")
    return tuple(zeros_like(r) if g is None else g for g, r in zip(grads, refs))


def _validate_v(v: Any, refs: tuple, fn: str, against: str) -> tuple:
    """``v`` as a tuple matching ``refs`` in count and shapes; None only for one 1-element ref."""
    if v is None:
        if len(refs) != 1 or refs[0].numel() != 1:
            raise ShapeError(f"{fn}: The vector v can only be None if the {against} is a single "
                             f"Tensor with a single element (got shapes "
                             f"{[tuple(r.shape) for r in refs]})")
        return (refs[0].new_ones(*refs[0].shape),)
    _, v = _as_tuple(v, "v", fn)
    if len(v) != len(refs):
        raise ShapeError(f"{fn}: v has {len(v)} Tensor(s), the {against} {len(refs)}")
    for i, (a, b) in enumerate(zip(v, refs)):
        if a.shape != b.shape:
            raise ShapeError(f"{fn}: Mismatch in shape: v[{i}] has shape {tuple(a.shape)}, the "
                             f"{against}[{i}] {tuple(b.shape)}")
    return v


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product, shaped as the inputs."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        v = _validate_v(v, outputs, "vjp", "output of the user-provided function")
        grads = _grads(outputs, inputs, v, create_graph)
        result = _fill_in_zeros(grads, inputs, strict, "vjp", "The output of the user-provided function")
    return (_tuple_postprocess(_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_postprocess(result, create_graph), is_inputs_tuple))


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product, shaped as the outputs -- by torch's
    double-vjp trick: g(u) = u^T J is linear in u, so d<g(u), v>/du = J v."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph)
        v = _validate_v(v, inputs, "jvp", "input")
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        dummies = tuple(zeros_like(out).requires_grad_(True) for out in outputs)
        grad_inputs = _grads(outputs, inputs, dummies, create_graph=True)
        _fill_in_zeros(grad_inputs, inputs, strict, "jvp", "The output of the user-provided function")
        used = tuple(g for g in grad_inputs if g is not None)
        used_v = tuple(w for g, w in zip(grad_inputs, v) if g is not None)
        grads = _grads(used, dummies, used_v, create_graph) if used else (None,) * len(dummies)
        result = _fill_in_zeros(grads, outputs, strict, "jvp", "The gradient with respect to the "
                                "inputs (double backward trick)")
    return (_tuple_postprocess(_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_postprocess(result, create_graph), is_outputs_tuple))


def _check_strategy(fn: str, vectorize: bool, strategy: str) -> None:
    if strategy == "forward-mode":
        raise ConfigError(f"{fn}: strategy 'forward-mode' needs forward-mode AD, which tensorgan "
                          f"does not have; use strategy='reverse-mode' (the default)")
    if strategy != "reverse-mode":
        raise ConfigError(f"{fn}: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    if not isinstance(vectorize, bool):
        raise ConfigError(f"{fn}: vectorize must be a bool, got {vectorize!r}")


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d func(inputs) / d inputs: for each output and input, a Tensor of shape
    ``output.shape + input.shape`` -- one backward per output element.  ``vectorize=True`` is
    accepted and computes the same by that loop (tensorgan has no vmap)."""
    _check_strategy("jacobian", vectorize, strategy)
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                              "jacobian")
        result = tuple(_jacobian_of(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
    return _tuple_postprocess(_postprocess(result, create_graph), (is_outputs_tuple, is_inputs_tuple))


def _jacobian_of(i: int, out: Tensor, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """Output ``i``'s Jacobian with respect to each input: row k is the backward of a one-hot
    grad_output at element k."""
    rows: list[list] = [[] for _ in inputs]
    seed = out.detach().reshape(-1) * 0
    for k in range(out.numel()):
        one_hot = seed.clone()
        one_hot[k] = 1
        grads = _grads((out,), inputs, (one_hot.reshape(*out.shape),), create_graph)
        for j, (g, inp) in enumerate(zip(grads, inputs)):
            if g is None and strict:
                raise AutogradError(f"jacobian: Output {i} of the user-provided function is "
                                     f"independent of input {j}. This is not allowed in strict mode.")
            if g is not None and strict and create_graph and not g._requires_grad:
                raise AutogradError(f"jacobian: The jacobian of the user-provided function is "
                                     f"independent of input {j}. This is not allowed in strict "
                                     f"mode when create_graph=True.")
            rows[j].append(zeros_like(inp) if g is None else g)
    return tuple(stack(r).reshape(*out.shape, *inp.shape) if r
                 else inp.new_zeros(*out.shape, *inp.shape) for r, inp in zip(rows, inputs))


def _single_output(fn: str, out: Any) -> Tensor:
    _, outs = _as_tuple(out, "outputs of the user-provided function", fn)
    if len(outs) != 1:
        raise ShapeError(f"{fn}: The function given to {fn} should return a single Tensor, got "
                         f"{len(outs)}")
    if outs[0].numel() != 1:
        raise ShapeError(f"{fn}: The Tensor returned by the function given to {fn} should contain "
                         f"a single element, got shape {tuple(outs[0].shape)}")
    return outs[0]


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a function returning one element: the jacobian of its jacobian, shaped
    ``input_i.shape + input_j.shape`` (a tuple of tuples for tuple inputs)."""
    _check_strategy("hessian", vectorize, outer_jacobian_strategy)
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar(*xs: Tensor) -> Tensor:
        return _single_output("hessian", func(*xs)).reshape(())

    def jac(*xs: Tensor) -> tuple:
        return jacobian(scalar, xs, create_graph=True, strict=strict)

    result = jacobian(jac, inputs, create_graph=create_graph, strict=strict)
    return _tuple_postprocess(result, (is_inputs_tuple, is_inputs_tuple))


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T H): H the Hessian of a function returning one element."""
    return _hessian_product("vhp", func, inputs, v, create_graph, strict)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), H v).  H is symmetric, so this is ``vhp``'s computation (torch's
    double-backward trick gives the same numbers at a higher cost)."""
    return _hessian_product("hvp", func, inputs, v, create_graph, strict)


def _hessian_product(fn: str, func: Callable, inputs: Any, v: Any, create_graph: bool,
                     strict: bool) -> tuple:
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn)
        inputs = _preprocess(inputs, create_graph)
        v = _validate_v(v, inputs, fn, "input")
        out = _single_output(fn, func(*inputs))
        jac = _grads((out,), inputs, None, create_graph=True)
        _fill_in_zeros(jac, inputs, strict, fn, "The output of the user-provided function")
        used = [k for k, g in enumerate(jac) if g is not None]
        grads = _grads(tuple(jac[k] for k in used), inputs, tuple(v[k] for k in used),
                       create_graph) if used else (None,) * len(inputs)
        result = _fill_in_zeros(grads, inputs, strict, fn, "The jacobian of the user-provided function")
    return _postprocess(out, create_graph), _tuple_postprocess(_postprocess(result, create_graph),
                                                               is_inputs_tuple)
