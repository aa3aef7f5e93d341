"""torch's function forms of the Tensor methods: ``tg.exp(x)`` is ``x.exp()``, ``tg.sum(x, dim=1)``
is ``x.sum(dim=1)``, ``tg.matmul(a, b)`` is ``a @ b``. Each calls the method on its first argument,
so there is one implementation. (This module shadows the builtins ``abs``, ``sum``, ``max``, ``min``,
``pow`` and ``round``, as torch's namespace does: nothing else lives here.)"""
from __future__ import annotations

import builtins
from typing import Any, Callable

import numpy as np

from .errors import (AutogradError, ConfigTypeError, DeviceError, DTypeError, InputTypeError, ShapeArgumentError,
                     ShapeError)
from .special_ops import FUNCTION_NAMES, float_power, polygamma, rsub  # noqa: F401  (tg.*)
from .tensor import _CATEGORY, Tensor, _refuse_partial_overlap, get_default_dtype


def _write_out(op: str, result: Any, out: Any, inputs: tuple = ()) -> Tensor:
    """torch's ``out=``: ``result`` written into ``out`` (resized to its shape where they differ,
    cast to ``out``'s dtype where that is a same-kind cast), ``out`` returned. As in torch, not
    differentiable: refused while grad mode is on and an input or ``out`` requires grad; and
    refused (MemoryOverlapError) where an input Tensor of ``inputs`` lies over part of ``out``
    (``tg.add(x[1:], x[:-1], out=x[:-1])``; ``out`` the very input is fine)."""
    from .grad_mode import is_grad_enabled
    if not isinstance(out, Tensor):
        raise InputTypeError(f"tg.{op}: out= must be a Tensor, got {type(out).__name__}")
    if not isinstance(result, Tensor):
        raise InputTypeError(f"tg.{op}: out= is supported for ops with one tensor result only")
    if is_grad_enabled() and (result._requires_grad or out._requires_grad):
        raise AutogradError(f"tg.{op}: functions with out= do not support automatic "
                             f"differentiation, but an argument requires grad (use the result "
                             f"without out=, or call under tensorgan.no_grad())")
    if out.device != result.device:
        raise DeviceError(f"tg.{op}: out= is on {out.device}, the result on {result.device}")
    if _CATEGORY[result.dtype.kind] > _CATEGORY[out.dtype.kind]:   # torch's rule (int64 -> uint8 wraps)
        raise DTypeError(f"tg.{op}: the result is {result.dtype}, which cannot be written into "
                         f"an out= tensor of dtype {out.dtype}")
    if out.shape == result.shape:
        _refuse_partial_overlap(f"tg.{op}", out.array, inputs)
        out.array[...] = result.array             # in its own memory: views and numpy() see it
    else:                                         # torch resizes out (with a warning if not empty)
        out.array = result.array.astype(out.dtype, copy=True)
    out._bump_version()
    return out


# ops whose out= torch writes without its partial-overlap check (reductions, triangles; as the
# matmul family, whose forms here pass no inputs to check): tensorgan's result is well defined
_OUT_UNCHECKED = frozenset({"sum", "mean", "prod", "nansum", "nanmean", "amax", "amin", "logsumexp",
                            "std", "var", "norm", "triu", "tril"})


# ops whose torch function takes a number first (torch.sub(1, x)): the Tensor's reflected operator
_NUMBER_FIRST = {"add": "__radd__", "sub": "__rsub__", "mul": "__rmul__", "div": "__rtruediv__",
                 "true_divide": "__rtruediv__", "floor_divide": "__rfloordiv__",
                 "bitwise_and": "__rand__", "bitwise_or": "__ror__", "bitwise_xor": "__rxor__",
                 "bitwise_left_shift": "__rlshift__", "bitwise_right_shift": "__rrshift__"}


_NUMBERS = (int, float, complex, np.number)


def _number_first(name: str, reflected: str, number: Any, args: tuple, kwargs: dict) -> Tensor:
    """``tg.<name>(number, other, ...)`` as torch's, which wraps the number (a 0-d tensor that
    does not widen ``other``'s dtype): ``tg.sub(1, x)`` is ``1 - x``; with options
    (``alpha=``, ``rounding_mode=``) or two numbers, the op on ``number`` as a 0-d tensor."""
    other = args[0]
    if len(args) == 1 and not kwargs and isinstance(other, Tensor):
        return getattr(other, reflected)(number)                  # tg.sub(1, x): 1 - x
    if not isinstance(other, (Tensor, *_NUMBERS)) or (name.startswith("bitwise") and not isinstance(other, Tensor)):
        raise InputTypeError(f"tg.{name}: other must be a Tensor or a number, got {type(other).__name__}")
    from .factory import tensor
    wrapped = tensor(number, device=other.device) if isinstance(other, Tensor) else tensor(number)
    return getattr(wrapped, name)(*args, **kwargs)               # tg.add(3, x, alpha=2), tg.add(3, 4)


def _function_form(name: str, public: str | None = None) -> Callable[..., Any]:
    """``tg.<name>(x, ...)``: ``x.<name>(...)``; ``public`` is its name elsewhere
    (``"special.gammaln"`` for ``lgamma``). ``out=`` as torch's (see :func:`_write_out`)."""
    public = public or name
    reflected = _NUMBER_FIRST.get(name)

    def function(input: Tensor, *args: Any, out: Tensor | None = None, **kwargs: Any) -> Any:
        if not isinstance(input, Tensor):
            if reflected and args and isinstance(input, _NUMBERS):
                result = _number_first(name, reflected, input, args, kwargs)
                return result if out is None else _write_out(public, result, out, args)
            raise InputTypeError(f"tg.{public}: input must be a Tensor, got {type(input).__name__}")
        if out is not None:
            result = getattr(input, name)(*args, **kwargs)
            checked = () if name in _OUT_UNCHECKED else (input, *args, *kwargs.values())
            return _write_out(public, result, out, checked)
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = public.rpartition(".")[2]
    function.__doc__ = f"``tg.{public}(x, ...)`` is ``x.{name}(...)``: see :meth:`Tensor.{name}`."
    return function


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input @ other`` (torch.matmul)."""
    return input @ other if out is None else _write_out("matmul", input @ other, out)


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """(n, m) @ (m, p) (torch.mm: 2-D only, no broadcasting)."""
    _ranks("mm", input, mat2, 2)
    return input @ mat2 if out is None else _write_out("mm", input @ mat2, out)


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """(b, n, m) @ (b, m, p) (torch.bmm: 3-D, same batch)."""
    _ranks("bmm", input, mat2, 3)
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: batch sizes differ: {input.shape} and {mat2.shape}")
    from .ops import Bmm
    result = Bmm.apply(input, input._lift(mat2))
    return result if out is None else _write_out("bmm", result, out)


def _ranks(op: str, a: Any, b: Any, rank: int) -> None:
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)) or a.ndim != rank or b.ndim != rank:
        raise ShapeError(f"{op}: needs two {rank}-D tensors, got {getattr(a, 'shape', a)} and "
                         f"{getattr(b, 'shape', b)}")


exp = _function_form("exp")
log = _function_form("log")
sqrt = _function_form("sqrt")
tanh = _function_form("tanh")
sigmoid = _function_form("sigmoid")
relu = _function_form("relu")
abs = _function_form("abs")
clamp = _function_form("clamp")
clip = _function_form("clip")
sum = _function_form("sum")
mean = _function_form("mean")
var = _function_form("var")
std = _function_form("std")
amax = _function_form("amax")
amin = _function_form("amin")
argmax = _function_form("argmax")
argmin = _function_form("argmin")
logsumexp = _function_form("logsumexp")
softmax = _function_form("softmax")
log_softmax = _function_form("log_softmax")
reshape = _function_form("reshape")
permute = _function_form("permute")
transpose = _function_form("transpose")
flatten = _function_form("flatten")
squeeze = _function_form("squeeze")
unsqueeze = _function_form("unsqueeze")


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """``tensor.split(...)`` (torch.split's keyword names: ``tensor``, ``split_size_or_sections``,
    ``dim``; the method's is ``split_size``)."""
    if not isinstance(tensor, Tensor):
        raise InputTypeError(f"tg.split: tensor must be a Tensor, got {type(tensor).__name__}")
    return tensor.split(split_size_or_sections, dim)


chunk = _function_form("chunk")
log1p = _function_form("log1p")
sin = _function_form("sin")
cos = _function_form("cos")
square = _function_form("square")
norm = _function_form("norm")
maximum = _function_form("maximum")
minimum = _function_form("minimum")
lerp = _function_form("lerp")
flip = _function_form("flip")
isfinite = _function_form("isfinite")
isnan = _function_form("isnan")
isinf = _function_form("isinf")
add = _function_form("add")
sub = _function_form("sub")
mul = _function_form("mul")
div = _function_form("div")
true_divide = _function_form("true_divide")
floor_divide = _function_form("floor_divide")
logical_and, logical_or = _function_form("logical_and"), _function_form("logical_or")
logical_xor, logical_not = _function_form("logical_xor"), _function_form("logical_not")
bitwise_and, bitwise_or = _function_form("bitwise_and"), _function_form("bitwise_or")
bitwise_xor, bitwise_not = _function_form("bitwise_xor"), _function_form("bitwise_not")


def pow(input: Any, exponent: Any, *, out: Tensor | None = None) -> Tensor:
    """``input ** exponent`` (torch.pow): a tensor to a number or a tensor, or a number to a tensor."""
    if not isinstance(input, Tensor) and isinstance(exponent, Tensor):
        result = exponent.__rpow__(input)
    elif not isinstance(input, Tensor):
        raise InputTypeError(f"tg.pow: input must be a Tensor or a number with a Tensor exponent, "
                             f"got {type(input).__name__}")
    else:
        result = input ** exponent
    return result if out is None else _write_out("pow", result, out, (input, exponent))


neg = _function_form("neg")
max = _function_form("max")
min = _function_form("min")
sign = _function_form("sign")
round = _function_form("round")
floor = _function_form("floor")
ceil = _function_form("ceil")
trunc = _function_form("trunc")
rsqrt = _function_form("rsqrt")
reciprocal = _function_form("reciprocal")
lt = _function_form("lt")
le = _function_form("le")
gt = _function_form("gt")
ge = _function_form("ge")
eq = _function_form("eq")
ne = _function_form("ne")
t = _function_form("t")
masked_fill = _function_form("masked_fill")
narrow = _function_form("narrow")
index_select = _function_form("index_select")
unbind = _function_form("unbind")
multiply, divide, subtract, negative = mul, div, sub, neg

# torch's math beyond the core (math_ops.py) and its in-place forms (torch.exp_(x) is x.exp_())
addcmul = _function_form("addcmul")
addcdiv = _function_form("addcdiv")
clamp_min = _function_form("clamp_min")
clamp_max = _function_form("clamp_max")
is_floating_point = _function_form("is_floating_point")
numel = _function_form("numel")
erf = _function_form("erf")
erfinv = _function_form("erfinv")
expm1 = _function_form("expm1")
log2 = _function_form("log2")
log10 = _function_form("log10")
sinh = _function_form("sinh")
cosh = _function_form("cosh")
tan = _function_form("tan")
asin = _function_form("asin")
acos = _function_form("acos")
atan = _function_form("atan")
atan2 = _function_form("atan2")
hypot = _function_form("hypot")
dist = _function_form("dist")
logaddexp = _function_form("logaddexp")
_xlogy = _function_form("xlogy")


def xlogy(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input * log(other)``, 0 where input is 0 (torch.xlogy); ``input`` a tensor or, beside a
    tensor ``other``, a number (torch's Scalar overload, as ``special.xlogy``)."""
    if not isinstance(input, Tensor) and isinstance(other, Tensor):
        from .special import xlogy as special_xlogy
        result = special_xlogy(input, other)
        return result if out is None else _write_out("xlogy", result, out, (other,))
    return _xlogy(input, other, out=out)


logit = _function_form("logit")
frac = _function_form("frac")
fmod = _function_form("fmod")
_remainder = _function_form("remainder")


def remainder(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input % other`` with the sign of ``other`` (torch.remainder), ``input`` a tensor or, beside
    a tensor ``other``, a number (torch's Scalar overload: ``remainder(2, t)`` is ``2 % t``; there
    ``t`` gets the gradient ``-(2 // t)``, an extension: torch's node refuses it)."""
    if not isinstance(input, Tensor) and isinstance(other, Tensor) \
            and isinstance(input, (int, float, np.integer, np.floating)):
        result = other.__rmod__(input)
        return result if out is None else _write_out("remainder", result, out, (other,))
    return _remainder(input, other, out=out)
nan_to_num = _function_form("nan_to_num")
prod = _function_form("prod")
cumsum = _function_form("cumsum")
cumprod = _function_form("cumprod")
logcumsumexp = _function_form("logcumsumexp")
nansum = _function_form("nansum")
nanmean = _function_form("nanmean")
count_nonzero = _function_form("count_nonzero")
aminmax = _function_form("aminmax")
median = _function_form("median")
abs_ = _function_form("abs_")
exp_ = _function_form("exp_")
log_ = _function_form("log_")
sigmoid_ = _function_form("sigmoid_")
tanh_ = _function_form("tanh_")
relu_ = _function_form("relu_")
neg_ = _function_form("neg_")
sqrt_ = _function_form("sqrt_")
rsqrt_ = _function_form("rsqrt_")
reciprocal_ = _function_form("reciprocal_")
round_ = _function_form("round_")
floor_ = _function_form("floor_")
ceil_ = _function_form("ceil_")
log1p_ = _function_form("log1p_")
sin_ = _function_form("sin_")
cos_ = _function_form("cos_")
square_ = _function_form("square_")
clamp_ = _function_form("clamp_")
clip_ = _function_form("clip_")
fill_ = _function_form("fill_")
zero_ = _function_form("zero_")
erf_ = _function_form("erf_")
erfinv_ = _function_form("erfinv_")
expm1_ = _function_form("expm1_")
frac_ = _function_form("frac_")
logit_ = _function_form("logit_")
nan_to_num_ = _function_form("nan_to_num_")
trunc_ = _function_form("trunc_")
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2


def einsum(equation: Any, *operands: Any) -> Tensor:
    """torch.einsum: ``einsum("bij,bjk->bik", a, b)``; ``...`` and the implicit output (the
    letters seen once, in alphabetical order) as NumPy's. A letter of size 1 in one operand
    broadcasts against its size in another (``einsum("ij,ij->ij", ones(1, 3), ones(2, 3))``), as
    torch's; a letter repeated within one operand takes its diagonal (``einsum("ii->i", a)``,
    ``"NMKK->NM"``: a trace). The sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (ints in
    [0, 52) and ``...``) is torch's too."""
    from .ops import Einsum
    if isinstance(equation, Tensor):
        equation, operands = _einsum_sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if isinstance(equation, str) and not operands:     # torch: a ValueError
        raise ConfigTypeError("einsum: must specify the equation string and at least one operand")
    if not isinstance(equation, str) or not builtins.all(isinstance(o, Tensor) for o in operands):
        raise InputTypeError("einsum: takes an equation string and one or more Tensors, or the "
                             "sublist form einsum(a, [0, 1], b, [1, 2], [0, 2])")
    inputs, output, sizes = _einsum_subscripts(equation, [o.shape for o in operands])
    operands, inputs = list(operands), list(inputs)
    for k, sub in enumerate(inputs):            # size-1 letters broadcast (an expand view)
        full = tuple(sizes[c] for c in sub)
        if tuple(operands[k].shape) != full:
            operands[k] = operands[k].expand(*full)
    for k, sub in enumerate(inputs):
        while len(set(sub)) != len(sub):        # a diagonal: the repeated letter moves last
            c = next(c for c in sub if sub.count(c) > 1)
            i = sub.index(c)
            j = sub.index(c, i + 1)
            operands[k] = operands[k].diagonal(0, i, j)
            sub = sub[:i] + sub[i + 1:j] + sub[j + 1:] + c
        inputs[k] = sub
    return Einsum.apply((tuple(inputs), output), *operands)


def _einsum_subscripts(equation: str, shapes: list) -> tuple[tuple[str, ...], str]:
    """Explicit subscripts: ``...`` replaced by letters the equation does not use."""
    spec = equation.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ShapeError(f"einsum: {equation!r} names {len(inputs)} operands, got {len(shapes)}")
    letters = [c for c in spec if c.isalpha()]
    if builtins.any(c not in ".,->" and not c.isalpha() for c in spec):
        raise ShapeError(f"einsum: {equation!r} may hold only letters, ',', '->' and '...'")
    spare = iter(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in letters)
    widest = builtins.max((len(s) - len(sub.replace("...", "")) for sub, s in zip(inputs, shapes) if "..." in sub),
                 default=0)
    fill = "".join(next(spare) for _ in range(widest))[::-1]
    resolved, sizes = [], {}
    for sub, shape in zip(inputs, shapes):
        explicit = sub.replace("...", fill[len(fill) - (len(shape) - len(sub.replace("...", ""))):]
                               if "..." in sub else "")
        if len(explicit) != len(shape) or "." in explicit:
            raise ShapeError(f"einsum: subscripts {sub!r} do not fit an operand of shape {tuple(shape)}")
        seen = {}
        for c, n in zip(explicit, shape):
            if seen.setdefault(c, n) != n:
                raise ShapeError(f"einsum: {c!r} is {seen[c]} and {n} in {sub!r}: a repeated letter "
                                 f"(a diagonal) needs equal sizes")
            if sizes.setdefault(c, n) != n:
                if sizes[c] != 1 and n != 1:
                    raise ShapeError(f"einsum: {c!r} is {sizes[c]} in one operand and {n} in another, "
                                     f"which do not broadcast")
                sizes[c] = builtins.max(sizes[c], n)
        resolved.append(explicit)
    if arrow:
        output = rhs.replace("...", fill)
    else:
        once = sorted(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1)
        output = fill + "".join(once)
    if len(set(output)) != len(output) or builtins.any(c not in sizes for c in output):
        raise ShapeError(f"einsum: output {rhs!r} names a letter twice or one no operand has")
    return tuple(resolved), output, sizes


def _einsum_sublist_equation(args: tuple) -> tuple[str, tuple]:
    """torch's sublist form, ``einsum(a, [0, 1], b, [1, 2], [0, 2])``, as an equation string:
    ints 0-25 are 'A'-'Z' and 26-51 'a'-'z' (torch's mapping, so the implicit output's order is
    torch's), ``...`` (Ellipsis) stays; the optional last list is the output."""
    def letters(sub: Any) -> str:
        if not isinstance(sub, (list, tuple)):
            raise InputTypeError(f"einsum: the sublist form takes Tensor, list pairs; got "
                                 f"{type(sub).__name__} where a subscript list belongs")
        out = []
        for n in sub:
            if n is Ellipsis:
                out.append("...")
            elif isinstance(n, (int, np.integer)) and not isinstance(n, bool) and 0 <= n < 52:
                out.append(chr(ord("A") + n) if n < 26 else chr(ord("a") + n - 26))
            else:
                raise ShapeError(f"einsum: subscript {n!r} in a subscript list is not within the "
                                 f"valid range [0, 52) (nor ...)")
        return "".join(out)
    operands, subs = [], []
    i = 0
    while i + 1 < len(args) and isinstance(args[i], Tensor):
        operands.append(args[i])
        subs.append(letters(args[i + 1]))
        i += 2
    rest = args[i:]
    if len(rest) > 1 or (rest and isinstance(rest[0], Tensor)):
        raise InputTypeError("einsum: the sublist form is einsum(a, [0, 1], b, [1, 2], ...,"
                             " [output]): each Tensor followed by its subscript list")
    equation = ",".join(subs) + ("->" + letters(rest[0]) if rest else "")
    return equation, tuple(operands)


isclose = _function_form("isclose")
allclose = _function_form("allclose")
equal = _function_form("equal")

clone = _function_form("clone")
unflatten = _function_form("unflatten")
any = _function_form("any")        # noqa: A001  (torch's names)
all = _function_form("all")        # noqa: A001


class finfo:
    """Machine limits of a float dtype, float32 (the default dtype) by default -- torch.finfo:
    ``bits``, ``eps``, ``max``, ``min``, ``tiny`` / ``smallest_normal``, ``resolution`` as Python
    numbers (``finfo(float16).max * 2`` is 131008.0, not a float16 overflow) and ``dtype`` the
    dtype's name (``'float32'``); equal when the dtype is, unhashable, as torch's."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, dtype: Any = None):
        from .tensor import _check_dtype
        dt = np.dtype(_check_dtype(get_default_dtype() if dtype is None else dtype))
        info = np.finfo(dt)
        self.bits = int(info.bits)
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)       # exactly, as torch (not float16-rounded)
        self.dtype = dt.name

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype -- torch.iinfo: ``bits``, ``max``, ``min`` as Python ints,
    ``dtype`` the dtype's name (``'int64'``); equal when the dtype is, unhashable, as torch's."""

    __slots__ = ("bits", "max", "min", "dtype")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, dtype: Any):
        from .tensor import INT_DTYPES, _check_dtype
        dt = _check_dtype(dtype, any_kind=True)
        if dt not in INT_DTYPES:
            raise InputTypeError(f"iinfo takes an integer dtype, got {dt}")
        info = np.iinfo(dt)
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), int(info.min), np.dtype(dt).name

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of ``elements`` is among ``test_elements`` (a bool tensor of
    ``elements``' shape; torch.isin; ``assume_unique`` only a speed hint, as torch's)."""
    if not isinstance(elements, Tensor):
        raise InputTypeError(f"isin: elements must be a Tensor, got {type(elements).__name__}")
    test = test_elements.detach().numpy() if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    found = np.isin(elements.detach().numpy(), test, invert=bool(invert))
    return Tensor._make(elements.device.xp.asarray(found), elements.device)


# torch's remaining elementwise names (special_ops.py): tg.lgamma(x) is x.lgamma(), ...
special_forms = {name: _function_form(name) for name in FUNCTION_NAMES}


def broadcast_shapes(*shapes: Any) -> tuple:
    """The shape the given shapes broadcast to (torch.broadcast_shapes)."""
    try:
        return tuple(np.broadcast_shapes(*((s,) if isinstance(s, int) else tuple(s) for s in shapes)))
    except ValueError:
        _refuse_non_int_shapes(shapes)
        raise ShapeError(f"broadcast_shapes: shapes {shapes} do not broadcast") from None
    except TypeError:
        _refuse_non_int_shapes(shapes)
        raise


def _refuse_non_int_shapes(shapes: tuple) -> None:
    """(On the error path only.) A ShapeArgumentError naming the first shape that is not an int
    or a sequence of ints -- torch's RuntimeError, where NumPy raised a TypeError / ValueError."""
    for i, s in enumerate(shapes):
        sizes = (s,) if isinstance(s, int) else s if isinstance(s, (tuple, list)) else None
        if sizes is None or not builtins.all(isinstance(n, int) for n in sizes):
            got = f" {s!r}" if isinstance(s, (int, float, str, tuple, list, np.generic)) else ""
            raise ShapeArgumentError(f"broadcast_shapes: shape {i} must be an int, a tuple of ints "
                                     f"or a list of ints, got {type(s).__name__}{got}") from None


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """The tensors expanded to their common shape (views, in the graph; torch.broadcast_tensors)."""
    if not builtins.all(isinstance(t, Tensor) for t in tensors):
        raise InputTypeError("broadcast_tensors: every argument must be a Tensor")
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


__all__ = ["clone", "unflatten", "any", "all", "get_default_dtype", "finfo", "iinfo", "isin",
           "broadcast_shapes", "broadcast_tensors", "matmul", "mm", "bmm", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "clamp", "clip", "sum",
           "mean", "var", "std", "amax", "amin", "argmax", "argmin", "logsumexp", "softmax",
           "log_softmax", "reshape", "permute", "transpose", "flatten", "squeeze", "unsqueeze",
           "split", "chunk", "log1p", "sin", "cos", "square", "norm", "maximum", "minimum", "lerp",
           "flip", "isfinite", "isnan", "isinf", "equal", "add", "sub", "mul", "div", "true_divide",
           "floor_divide", "pow", "neg", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
           "logical_and", "logical_or", "logical_xor", "logical_not",
           "max", "min", "sign", "round", "floor", "ceil", "trunc", "rsqrt", "reciprocal", "lt", "le",
           "gt", "ge", "eq", "ne", "t", "masked_fill", "narrow", "index_select", "unbind", "multiply",
           "divide", "subtract", "negative", "isclose", "allclose", "einsum",
           "addcmul", "addcdiv", "clamp_min", "clamp_max", "is_floating_point", "numel", "erf",
           "erfinv", "expm1", "log2", "log10", "sinh", "cosh", "tan", "asin", "acos", "atan",
           "atan2", "hypot", "dist", "logaddexp", "xlogy", "logit", "frac", "fmod", "remainder",
           "nan_to_num", "prod", "cumsum", "cumprod", "logcumsumexp", "nansum", "nanmean",
           "count_nonzero", "aminmax", "median", "abs_", "exp_", "log_", "sigmoid_", "tanh_",
           "relu_", "neg_", "sqrt_", "rsqrt_", "reciprocal_", "round_", "floor_", "ceil_",
           "log1p_", "sin_", "cos_", "square_", "clamp_", "clip_", "fill_", "zero_", "erf_",
           "erfinv_", "expm1_", "frac_", "logit_", "nan_to_num_", "trunc_", "arcsin", "arccos",
           "arctan", "arctan2", "rsub", "polygamma", "float_power", *FUNCTION_NAMES]
