"""torch.utils._pytree's everyday functions, which libraries call though the module is private
(Opacus: ``tree_map(torch.Tensor.detach, params)``): ``tree_flatten`` / ``tree_unflatten`` /
``tree_leaves`` / ``tree_structure`` / ``tree_map`` / ``tree_map_only``.

A tree's nodes are lists, tuples, namedtuples and dicts (OrderedDict and defaultdict keep their
type); everything else -- Tensors, numbers, None -- is a leaf, as torch's.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

__all__ = ["TreeSpec", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure",
           "tree_map", "tree_map_only"]


class TreeSpec:
    """A tree's shape without its leaves: the node type, what rebuilds it (dict keys), children."""

    def __init__(self, type: Any, context: Any, children_specs: list):
        self.type, self.context, self.children_specs = type, context, children_specs
        self.num_leaves = 1 if type is None else sum(c.num_leaves for c in children_specs)

    def is_leaf(self) -> bool:
        return self.type is None

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, TreeSpec) and (self.type, self.context, self.children_specs) == (
            other.type, other.context, other.children_specs)

    def __repr__(self) -> str:
        if self.type is None:
            return "*"
        return f"TreeSpec({self.type.__name__}, {self.context!r}, {self.children_specs!r})"


def _children(node: Any, is_leaf: Callable | None) -> tuple[list, Any] | None:
    """(children, context) of a container node; None for a leaf."""
    if is_leaf is not None and is_leaf(node):
        return None
    if isinstance(node, dict):
        keys = list(node)
        context = (node.default_factory, keys) if isinstance(node, defaultdict) else keys
        return [node[k] for k in keys], context
    if isinstance(node, (list, tuple)):
        return list(node), None
    return None


def _rebuild(spec: TreeSpec, children: list) -> Any:
    kind = spec.type
    if issubclass(kind, defaultdict):
        factory, keys = spec.context
        return kind(factory, zip(keys, children))
    if issubclass(kind, dict):
        return kind(zip(spec.context, children))
    if issubclass(kind, tuple) and hasattr(kind, "_fields"):     # a namedtuple
        return kind(*children)
    return kind(children)


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, TreeSpec]:
    """(the leaves, left to right; the TreeSpec that :func:`tree_unflatten` rebuilds from)."""
    leaves: list = []

    def walk(node: Any) -> TreeSpec:
        parts = _children(node, is_leaf)
        if parts is None:
            leaves.append(node)
            return TreeSpec(None, None, [])
        return TreeSpec(type(node), parts[1], [walk(c) for c in parts[0]])

    return leaves, walk(tree)


def tree_unflatten(leaves: Any, treespec: TreeSpec) -> Any:
    """The tree ``treespec`` describes, with ``leaves`` in its leaves' places."""
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the "
                         f"spec refers to a pytree that holds {treespec.num_leaves} items ({treespec}).")
    it = iter(leaves)

    def build(spec: TreeSpec) -> Any:
        if spec.type is None:
            return next(it)
        return _rebuild(spec, [build(c) for c in spec.children_specs])

    return build(treespec)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> TreeSpec:
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func: Callable, tree: Any, *rests: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``func`` on every leaf (with the matching leaves of ``rests``, trees of the same shape)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = []
    for rest in rests:
        rest_leaves, rest_spec = tree_flatten(rest, is_leaf)
        if rest_spec != spec:
            raise ValueError(f"tree_map: the trees differ in structure ({spec} and {rest_spec})")
        others.append(rest_leaves)
    return tree_unflatten([func(*xs) for xs in zip(leaves, *others)], spec)


def tree_map_only(type_or_types: Any, func: Callable, tree: Any,
                  is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``func`` on the leaves that are instances of ``type_or_types``; other leaves as they are."""
    return tree_map(lambda x: func(x) if isinstance(x, type_or_types) else x, tree, is_leaf=is_leaf)
