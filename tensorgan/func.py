"""torch's ``torch.func`` on tensorgan's reverse-mode engine: ``functional_call``, ``grad``,
``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``vmap`` (a loop) and
``stack_module_state``.

These transform functions instead of tensors: ``grad(f)(x)`` is df/dx.  They are built on
``autograd.grad``: the differentiated arguments are tracked copies (detached leaves, or an
identity op on an argument that already requires grad -- then the result keeps its graph, so the
transforms nest: ``grad(grad(f))``, ``hessian = jacrev(jacrev(f))``).  Arguments may be pytrees
(dicts, lists, tuples) of Tensors, as ``functional_call``'s parameter dicts are::

    params = dict(model.named_parameters())
    grads = tg.func.grad(lambda p: loss_fn(tg.func.functional_call(model, p, (x,)), y))(params)

``jvp`` is computed by torch's double-vjp trick (tensorgan has no forward mode): a backward from
zero cotangents that require grad, then a backward of that with respect to them -- the same
numbers, two reverse passes.  ``jacfwd`` gives the Jacobian ``jacrev`` gives (the same numbers
and layout, computed row by row).

``vmap`` has no batching rules here: it calls the function once per batch element and stacks the
results (documented as a loop; the same numbers, a Python loop's speed).  Its ``randomness``
flags are torch's: 'error' refuses random ops, 'same' gives every element the same draws
(the generator's state is put back before each one), 'different' draws afresh per element.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .autograd.functional import _jacobian_of
from . import random as _random
from .backend import get_device
from .errors import (ConfigError, InputTypeError, ReparametrizeKeysError, ShapeError,
                     VmapRandomnessError)
from .factory import stack, zeros_like
from .grad_mode import enable_grad, is_grad_enabled
from .tensor import Tensor

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
           "vmap", "stack_module_state", "linearize", "functionalize",
           "replace_all_batch_norm_modules_", "debug_unwrap"]


# ---------------------------------------------------------------------------------------------
# pytrees: Tensors in (nested) tuples, lists and dicts
# ---------------------------------------------------------------------------------------------
def _flatten(tree: Any) -> tuple[list, Any]:
    """(the leaves in order, a spec that ``_unflatten`` rebuilds the tree from)."""
    if isinstance(tree, (tuple, list)):
        parts = [_flatten(t) for t in tree]
        return [leaf for p in parts for leaf in p[0]], (type(tree), [p[1] for p in parts])
    if isinstance(tree, dict):
        parts = [_flatten(v) for v in tree.values()]
        return [leaf for p in parts for leaf in p[0]], (dict, list(tree), [p[1] for p in parts])
    return [tree], None


def _unflatten(spec: Any, leaves: Sequence) -> Any:
    it = iter(leaves)
    return _build(spec, it)


def _build(spec: Any, it: Any) -> Any:
    if spec is None:
        return next(it)
    if spec[0] is dict:
        return {k: _build(s, it) for k, s in zip(spec[1], spec[2])}
    return spec[0](_build(s, it) for s in spec[1])


def _tree_map(fn: Callable, tree: Any) -> Any:
    leaves, spec = _flatten(tree)
    return _unflatten(spec, [fn(leaf) for leaf in leaves])


# ---------------------------------------------------------------------------------------------
# functional_call
# ---------------------------------------------------------------------------------------------
def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with some parameters and buffers replaced, by dotted name, by
    the given tensors -- for that call only: the module's own parameters are untouched.

    ``parameter_and_buffer_dicts``: a dict or a sequence of dicts (no key in two of them).
    ``tie_weights``: a tensor registered under several names (tied weights) is replaced under all
    of them when one is given.  ``strict``: every parameter and buffer must be given, no other."""
    values = _merged(parameter_and_buffer_dicts)
    named = _all_named(module)
    if tie_weights:
        values = _tied(values, named)
    if strict:
        missing = sorted(set(named) - set(values))
        unexpected = sorted(set(values) - set(named))
        if missing or unexpected:
            raise ReparametrizeKeysError(f"functional_call (strict=True): missing keys {missing}, unexpected "
                              f"keys {unexpected}")
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    saved = [_swap_in(module, name, value) for name, value in values.items()]
    try:
        return module(*args, **(kwargs or {}))
    finally:
        for restore in reversed(saved):
            restore()


def _merged(dicts: Any) -> dict:
    dicts = [dicts] if isinstance(dicts, dict) else list(dicts)
    merged: dict = {}
    for d in dicts:
        if not isinstance(d, dict):
            raise InputTypeError(f"functional_call: expected a dict or a sequence of dicts, got "
                                 f"{type(d).__name__}")
        twice = sorted(set(d) & set(merged))
        if twice:
            raise ConfigError(f"functional_call: {twice} appeared in multiple dictionaries; "
                              f"behavior of functional call is ambiguous")
        merged.update(d)
    return merged


def _all_named(module: Any) -> dict:
    """Every parameter and buffer under each of its names (a tied one more than once)."""
    named = {}
    for prefix, sub in module.named_modules(remove_duplicate=False):
        for registry in (sub._parameters, sub._buffers):
            for name, t in registry.items():
                if t is not None:
                    named[f"{prefix}.{name}" if prefix else name] = t
    return named


def _tied(values: dict, named: dict) -> dict:
    """``values`` with each tied name given the value its group got (refused if two differ)."""
    groups: dict = {}
    for name, t in named.items():
        groups.setdefault(id(t), []).append(name)
    values = dict(values)
    for names in groups.values():
        given = {n: values[n] for n in names if n in values}
        if len(names) < 2 or not given:
            continue
        if len({id(v) for v in given.values()}) > 1:
            raise ConfigError(f"functional_call got multiple values for keys {sorted(given)}, "
                              f"which are tied. Consider using tie_weights=False")
        value = next(iter(given.values()))
        values.update({n: value for n in names})
    return values


def _swap_in(module: Any, name: str, value: Any) -> Callable[[], None]:
    """Put ``value`` at the dotted ``name`` (as a plain attribute: the registries keep the
    module's own tensors); return the function that puts back what was there."""
    path, _, attr = name.rpartition(".")
    owner = module.get_submodule(path)
    missing = object()
    old = owner.__dict__.get(attr, missing)
    registries = [(r, r[attr]) for r in (owner._parameters, owner._buffers) if attr in r]
    object.__setattr__(owner, attr, value)

    def restore() -> None:
        if old is missing:
            owner.__dict__.pop(attr, None)
        else:
            object.__setattr__(owner, attr, old)
        for registry, tensor in registries:     # a forward's assignment (a buffer) undone
            registry[attr] = tensor

    return restore


# ---------------------------------------------------------------------------------------------
# grad, grad_and_value, vjp, jacrev, hessian
# ---------------------------------------------------------------------------------------------
def _argnums(argnums: Any, n_args: int, fn: str) -> tuple:
    nums = (argnums,) if isinstance(argnums, int) and not isinstance(argnums, bool) else argnums
    if not isinstance(nums, tuple) or not nums or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in nums):
        raise ConfigError(f"{fn}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    for a in nums:
        if not -n_args <= a < n_args:
            raise ConfigError(f"{fn}: Got argnums={a}, but only {n_args} positional inputs")
    return tuple(a % n_args for a in nums)


def _track(fn: str) -> Callable[[Any], Tensor]:
    def track(t: Any) -> Tensor:
        if not isinstance(t, Tensor) or t.dtype.kind != "f":
            raise InputTypeError(f"{fn}: the arguments to differentiate must be float Tensors (or "
                                 f"pytrees of them), got {getattr(t, 'dtype', type(t).__name__)}")
        return t.view_as(t) if t._requires_grad and is_grad_enabled() else t.detach().requires_grad_(True)
    return track


class _Tracked:
    """One call's differentiated arguments: the args with those at ``argnums`` tracked, their
    leaves, and whether an outer differentiation needs the results' graph."""

    def __init__(self, fn: str, args: tuple, argnums: Any) -> None:
        self.is_int = isinstance(argnums, int)
        self.nums = _argnums(argnums, len(args), fn)
        self.outer = is_grad_enabled() and any(
            isinstance(leaf, Tensor) and leaf._requires_grad
            for n in self.nums for leaf in _flatten(args[n])[0])
        self.args = list(args)
        self.specs, self.leaves = [], []
        for n in self.nums:
            self.args[n] = _tree_map(_track(fn), args[n])
            leaves, spec = _flatten(self.args[n])
            self.specs.append((spec, len(leaves)))
            self.leaves.extend(leaves)

    def regroup(self, per_leaf: Sequence) -> Any:
        """Values, one per tracked leaf, in the structure of the argnums."""
        groups, start = [], 0
        for spec, n in self.specs:
            groups.append(_unflatten(spec, per_leaf[start:start + n]))
            start += n
        return groups[0] if self.is_int else tuple(groups)

    def finish(self, value: Any) -> Any:
        return value if self.outer else _tree_map(
            lambda t: t.detach() if isinstance(t, Tensor) else t, value)


def _split_aux(fn: str, out: Any, has_aux: bool) -> tuple:
    if not has_aux:
        return out, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise InputTypeError(f"{fn}(f)(*args): output of function f should be a tuple: (output, "
                             f"aux) if has_aux is True")
    return out[0], out[1]


def _grads_of(outputs: list, tracked: _Tracked, seeds: list | None) -> list:
    from .autograd import grad as autograd_grad
    live = [k for k, o in enumerate(outputs) if o._requires_grad]
    got = autograd_grad([outputs[k] for k in live], tracked.leaves,
                        None if seeds is None else [seeds[k] for k in live],
                        retain_graph=True, create_graph=tracked.outer,
                        allow_unused=True) if live else [None] * len(tracked.leaves)
    return [zeros_like(leaf) if g is None else g for g, leaf in zip(got, tracked.leaves)]


def grad_and_value(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """``f -> (lambda *args: (df/dargs[argnums], f(*args)))``; f returns one-element Tensor
    (with ``has_aux``: ``(that, aux)``, and the value is ``(output, aux)``)."""
    def wrapper(*args: Any, **kwargs: Any) -> tuple:
        with enable_grad():
            tracked = _Tracked("grad_and_value", args, argnums)
            out, aux = _split_aux("grad_and_value", func(*tracked.args, **kwargs), has_aux)
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise ShapeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                                 f"Tensor, got {getattr(out, 'shape', type(out).__name__)}")
            grads = tracked.regroup(_grads_of([out], tracked, None))
        value = tracked.finish(out if not has_aux else (out, aux))
        return tracked.finish(grads), value

    return wrapper


def grad(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """``f -> df/dargs[argnums]`` (with ``has_aux``: ``(gradient, aux)``); see grad_and_value."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(func(*primals), vjp_fn[, aux])``: ``vjp_fn(cotangents)`` -- cotangents shaped as the
    output -- gives a tuple with the vector-Jacobian product for each primal."""
    with enable_grad():
        tracked = _Tracked("vjp", primals, tuple(range(len(primals))) or 0)
        out, aux = _split_aux("vjp", func(*tracked.args), has_aux)
        leaves, spec = _flatten(out)

    def vjp_fn(cotangents: Any) -> tuple:
        seeds, seed_spec = _flatten(cotangents)
        if seed_spec != spec or any(not isinstance(s, Tensor) or s.shape != o.shape
                                    for s, o in zip(seeds, leaves)):
            raise ShapeError("vjp_fn: Expected pytree structure of cotangents to be the same as "
                             "pytree structure of outputs to the function (and each cotangent "
                             "the shape of its output)")
        with enable_grad():
            grads = tracked.regroup(_grads_of(leaves, tracked, seeds))
        grads = tracked.finish(grads)
        return grads if isinstance(grads, tuple) else (grads,)

    result = (tracked.finish(out), vjp_fn)
    return result + (tracked.finish(aux),) if has_aux else result


def jacrev(func: Callable, argnums: Any = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """``f -> the Jacobian of f at args``, by one backward per output element: for each output
    (a pytree of Tensors) a Tensor of shape ``output.shape + arg.shape`` in the structure of the
    argnums.  ``chunk_size`` is accepted (the rows are computed one at a time anyway)."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with enable_grad():
            tracked = _Tracked("jacrev", args, argnums)
            out, aux = _split_aux("jacrev", func(*tracked.args, **kwargs), has_aux)
            leaves, spec = _flatten(out)
            blocks = [tracked.regroup(_jacobian_of(i, o, tuple(tracked.leaves), tracked.outer, False))
                      for i, o in enumerate(leaves)]
        jac = tracked.finish(_unflatten(spec, blocks))
        return (jac, tracked.finish(aux)) if has_aux else jac

    return wrapper


def jacfwd(func: Callable, argnums: Any = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """torch's forward-mode Jacobian: the same result as ``jacrev`` (shape ``output.shape +
    arg.shape`` per output and argnum), which is how it is computed here (tensorgan has no
    forward mode) -- the choice between the two is a speed choice in torch only."""
    if randomness not in ("error", "different", "same"):
        raise ConfigError(f"jacfwd: randomness must be 'error', 'different' or 'same', got {randomness!r}")
    return jacrev(func, argnums, has_aux=has_aux)


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """``(func(*primals), J @ tangents)``: the Jacobian-vector product, the tangents shaped as
    the primals (tuples, each entry a pytree of Tensors).  Computed by the double-vjp trick;
    nests with the other transforms (``jvp(grad(f), ...)`` is a Hessian-vector product)."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise InputTypeError(f"jvp(f, primals, tangents): Expected primals and tangents to be "
                             f"tuples, got {type(primals).__name__} and {type(tangents).__name__}")
    if not primals:
        raise ConfigError("jvp(f, primals, tangents): Expected primals to be a non-empty tuple")
    seeds, seed_spec = _flatten(tangents)
    if seed_spec != _flatten(primals)[1]:
        raise ShapeError("jvp(f, primals, tangents): Expected primals and tangents to have the "
                         "same python structure")
    with enable_grad():
        tracked = _Tracked("jvp", primals, tuple(range(len(primals))))
        for k, (s, leaf) in enumerate(zip(seeds, tracked.leaves)):
            if not isinstance(s, Tensor) or s.shape != leaf.shape:
                raise ShapeError(f"jvp(f, primals, tangents): tangent {k} must be a Tensor of the "
                                 f"shape of its primal {tuple(leaf.shape)}, got "
                                 f"{getattr(s, 'shape', type(s).__name__)}")
        out, aux = _split_aux("jvp", func(*tracked.args), has_aux)
        outs, out_spec = _flatten(out)
        if not all(isinstance(o, Tensor) for o in outs):
            raise InputTypeError("jvp(f, primals, tangents): f must return a Tensor or a pytree "
                                 "of Tensors")
        tangents_out = _forward_products(outs, tracked, seeds)
    result = (tracked.finish(out), tracked.finish(_unflatten(out_spec, tangents_out)))
    return result + (tracked.finish(aux),) if has_aux else result


def _forward_products(outs: list, tracked: _Tracked, seeds: list) -> list:
    """J @ seeds for each output: with u (zeros requiring grad), g = J^T u; then d<g, seeds>/du."""
    from .autograd import grad as autograd_grad
    live = [k for k, o in enumerate(outs) if o._requires_grad and o.dtype.kind == "f"]
    products = [zeros_like(o) if o.dtype.kind == "f" else None for o in outs]
    if not live:
        return products
    us = [zeros_like(outs[k]).detach().requires_grad_(True) for k in live]
    firsts = autograd_grad([outs[k] for k in live], tracked.leaves, us, retain_graph=True,
                           create_graph=True, allow_unused=True)
    used = [j for j, g in enumerate(firsts) if g is not None and g._requires_grad]
    if not used:
        return products
    seconds = autograd_grad([firsts[j] for j in used], us,
                            [seeds[j].to(firsts[j].dtype) for j in used], retain_graph=True,
                            create_graph=tracked.outer, allow_unused=True)
    for k, g in zip(live, seconds):
        if g is not None:
            products[k] = g
    return products


def hessian(func: Callable, argnums: Any = 0) -> Callable:
    """``f -> its Hessian``: ``jacrev(jacrev(f))`` (torch composes jacfwd(jacrev(f)); the same
    numbers, tensorgan having no forward mode)."""
    return jacrev(jacrev(func, argnums), argnums)


def stack_module_state(models: Any) -> tuple[dict, dict]:
    """``(params, buffers)``: each of the models' parameters (and buffers) stacked along a new
    first dimension, by name -- for ``vmap(lambda p, b, x: functional_call(model, (p, b), x))``.
    The stacked parameters are new leaves that require grad (where the models' do); the models
    must have the same parameter and buffer names and shapes."""
    models = list(models)
    if not models:
        raise ConfigError("stack_module_state: Expected at least one model, got 0.")
    if not all(m.training == models[0].training for m in models):
        raise ConfigError("stack_module_state: Expected all models to have the same training/eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise ConfigError("stack_module_state: Expected all models to be of the same class.")

    def stacked(dicts: list, what: str) -> dict:
        names = list(dicts[0])
        result = {}
        for k, d in enumerate(dicts):
            if list(d) != names:
                raise ConfigError(f"stack_module_state: model {k} has {what} {list(d)}, model 0 "
                                  f"has {names}")
        for name in names:
            values = [d[name] for d in dicts]
            if len({tuple(v.shape) for v in values}) != 1:
                raise ShapeError(f"stack_module_state: {what} {name!r} has shapes "
                                 f"{[tuple(v.shape) for v in values]} across the models")
            if not all(isinstance(v, Tensor) for v in values):   # BatchNorm's IntBuffer counter
                import numpy as np
                s = Tensor._make(np.stack([np.asarray(v) for v in values]), get_device("cpu"))
            else:
                s = stack([v.detach() for v in values])
            result[name] = s.requires_grad_(True) if all(getattr(v, "requires_grad", False)
                                                         for v in values) else s
        return result

    return (stacked([dict(m.named_parameters()) for m in models], "parameters"),
            stacked([dict(m.named_buffers()) for m in models], "buffers"))


# ---------------------------------------------------------------------------------------------
# vmap, as a loop
# ---------------------------------------------------------------------------------------------
def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """torch's ``vmap`` computed by a Python loop: ``func`` once per index along each mapped
    argument's ``in_dims`` (None: passed whole), the results stacked along ``out_dims``.  The
    same numbers as torch's batching rules, at a loop's speed.  Arguments and outputs may be
    pytrees (tuples, lists, dicts) of Tensors; ``in_dims`` is an int / None for all arguments or
    a tuple with one entry per argument, each an int / None for the whole argument or a pytree
    of them matching it (``out_dims`` likewise for the outputs).  Keyword arguments are passed
    unmapped.  ``randomness``: 'error' (torch's default) refuses random ops inside ``func``,
    'same' gives each element the same draws, 'different' draws afresh per element."""
    if randomness not in ("error", "different", "same"):
        raise ConfigError(f"vmap: randomness must be 'error', 'different' or 'same', got {randomness!r}")

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if isinstance(in_dims, tuple) and len(in_dims) != len(args):
            raise ConfigError(f"vmap: in_dims is not compatible with the structure of `inputs`: "
                              f"in_dims has {len(in_dims)} entries for {len(args)} arguments")
        leaves, spec = _flatten(list(args))
        dims = _dims_per_leaf(list(in_dims) if isinstance(in_dims, tuple) else in_dims,
                              list(args), "in_dims")
        sizes = set()
        for i, (a, d) in enumerate(zip(leaves, dims)):
            if d is None:
                continue
            if not isinstance(a, Tensor):
                raise InputTypeError(f"vmap: Got in_dim={d} for an input but the input is of type "
                                     f"{type(a).__name__}. We cannot vmap over non-Tensor "
                                     f"arguments, please use None as the respective in_dim")
            if a.ndim == 0 or not -a.ndim <= d < a.ndim:
                raise ShapeError(f"vmap: in_dim {d} is out of range for an input of shape {tuple(a.shape)}")
            sizes.add(a.shape[d])
        if len(sizes) != 1:
            raise ShapeError(f"vmap: the mapped arguments must have one size along in_dims, got "
                             f"{sorted(sizes) or 'no mapped argument'}")
        def element(k: int) -> Any:
            return func(*_unflatten(spec, [a if d is None else a.select(d, k)
                                           for a, d in zip(leaves, dims)]), **kwargs)

        return _stack_outputs(_map_elements(element, sizes.pop(), randomness), out_dims)

    return wrapper


class _NoDraws:
    """Stands in for the default generator's NumPy stream while ``vmap(randomness='error')``
    runs: any draw raises, as torch's random ops do there (no check on the ops' own path)."""

    def __getattr__(self, name: str) -> Any:
        raise VmapRandomnessError("vmap: called random operation while in randomness error mode. "
                                  "Please either use the 'same' or 'different' randomness flags on "
                                  "vmap or perform the randomness operation out of vmap")


def _map_elements(element: Callable[[int], Any], size: int, randomness: str) -> list:
    """``[element(k) for k in range(size)]`` under vmap's ``randomness`` flag."""
    generator = _random.default_generator
    if randomness == "different":
        return [element(k) for k in range(size)]
    if randomness == "same":         # each element draws what the first drew
        start = generator.state_dict_form()
        results = []
        for k in range(size):
            generator.set_state(start)
            results.append(element(k))
        return results
    stream, generator.rng = generator.rng, _NoDraws()
    try:
        return [element(k) for k in range(size)]
    finally:
        generator.rng = stream


def _dims_per_leaf(dims: Any, tree: Any, what: str) -> list:
    """``dims`` (an int / None, or a pytree prefix of ``tree`` of them) for each leaf of tree."""
    if dims is None or (isinstance(dims, int) and not isinstance(dims, bool)):
        return [dims] * len(_flatten(tree)[0])
    if isinstance(dims, (tuple, list)) and isinstance(tree, (tuple, list)) and len(dims) == len(tree):
        return [d for sub_d, sub_t in zip(dims, tree) for d in _dims_per_leaf(sub_d, sub_t, what)]
    if isinstance(dims, dict) and isinstance(tree, dict) and set(dims) == set(tree):
        return [d for key in tree for d in _dims_per_leaf(dims[key], tree[key], what)]
    raise ConfigError(f"vmap: {what} {dims!r} does not match the structure of the "
                      f"{'inputs' if what == 'in_dims' else 'outputs'} "
                      f"(an int or None, or a pytree of those shaped as them)")


def _stack_outputs(results: list, out_dims: Any) -> Any:
    flat = [_flatten(r) for r in results]
    spec = flat[0][1]
    if any(f[1] != spec for f in flat):
        raise ShapeError("vmap: the function returned outputs of different structures for "
                         "different batch elements")
    dims = _dims_per_leaf(out_dims, results[0], "out_dims")
    columns = list(zip(*[f[0] for f in flat]))
    for c in columns:
        if not all(isinstance(t, Tensor) for t in c):
            raise InputTypeError(f"vmap: the function must return Tensors (or pytrees of them), "
                                 f"got {type(next(t for t in c if not isinstance(t, Tensor))).__name__}")
    return _unflatten(spec, [stack(list(c), dim=d) for c, d in zip(columns, dims)])


def linearize(func: Callable, *primals: Any) -> tuple:
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is J @ tangents at ``primals``
    (torch.func.linearize), reusable for many tangents without running ``func`` again -- the
    graph of g = J^T u (u a dummy cotangent) is built once, and each call takes d<g, t>/du."""
    from .autograd import grad as autograd_grad
    if not primals:
        raise ConfigError("linearize(func, *primals): Expected at least one primal")
    with enable_grad():
        tracked = _Tracked("linearize", primals, tuple(range(len(primals))))
        out = func(*tracked.args)
        outs, out_spec = _flatten(out)
        if not all(isinstance(o, Tensor) for o in outs):
            raise InputTypeError("linearize(func, *primals): func must return a Tensor or a pytree of Tensors")
        live = [k for k, o in enumerate(outs) if o._requires_grad and o.dtype.kind == "f"]
        us = [zeros_like(outs[k]).detach().requires_grad_(True) for k in live]
        firsts = autograd_grad([outs[k] for k in live], tracked.leaves, us, retain_graph=True,
                               create_graph=True, allow_unused=True) if live else []
    used = [j for j, g in enumerate(firsts) if g is not None and g._requires_grad]
    primal_spec = _flatten(primals)[1]
    shapes = [tuple(leaf.shape) for leaf in tracked.leaves]

    def jvp_fn(*tangents: Any) -> Any:
        seeds, spec = _flatten(tangents)
        if spec != primal_spec:
            raise ShapeError("linearize's jvp_fn: expected the tangents to have the structure of the primals")
        for k, (s, shape) in enumerate(zip(seeds, shapes)):
            if not isinstance(s, Tensor) or tuple(s.shape) != shape:
                raise ShapeError(f"linearize's jvp_fn: tangent {k} must be a Tensor of shape {shape}, got "
                                 f"{getattr(s, 'shape', type(s).__name__)}")
        products = [zeros_like(o).detach() if o.dtype.kind == "f" else None for o in outs]
        if used:
            with enable_grad():
                seconds = autograd_grad([firsts[j] for j in used], us,
                                        [seeds[j].to(firsts[j].dtype) for j in used],
                                        retain_graph=True, allow_unused=True)
            for k, g in zip(live, seconds):
                if g is not None:
                    products[k] = g.detach()
        return _unflatten(out_spec, products)
    return tracked.finish(out), jvp_fn


def functionalize(func: Callable, *, remove: str = "mutations") -> Callable:
    """torch.func.functionalize: a version of ``func`` without mutations, for tracing. On
    eager tensorgan (as on eager torch) running it gives the same values and the same writes
    to the inputs, so it is ``func`` itself, after checking ``remove``."""
    if remove not in ("mutations", "mutations_and_views"):
        raise ConfigError(f"functionalize: remove must be 'mutations' or 'mutations_and_views', got {remove!r}")
    if not callable(func):
        raise InputTypeError(f"functionalize: func must be callable, got {type(func).__name__}")
    import functools

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)
    return wrapped


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """In place: every BatchNorm module in ``root`` (root included) stops tracking running
    statistics -- ``running_mean`` / ``running_var`` / ``num_batches_tracked`` set to None and
    ``track_running_stats`` to False (what vmap over a batch-norm model needs); returns root."""
    from .nn.layers import _BatchNorm
    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root


__all__ += ["functionalize", "linearize", "replace_all_batch_norm_modules_"]


def debug_unwrap(tensor: Tensor, *, recurse: bool = True) -> Tensor:
    """torch.func.debug_unwrap: the plain tensor under a transform's wrapper.  tensorgan's
    transforms pass plain Tensors (vmap slices, grad's tracked copies), so it is ``tensor``."""
    if not isinstance(tensor, Tensor):
        raise InputTypeError(f"debug_unwrap: expected a Tensor, got {type(tensor).__name__}")
    return tensor
