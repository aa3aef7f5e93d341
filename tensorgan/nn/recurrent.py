"""Recurrent layers with torch's names, constructor arguments, parameter names and shapes,
initialization and forward signatures (so a torch state dict loads by name): the cells
``RNNCell`` / ``LSTMCell`` / ``GRUCell`` (one time step) and the sequence layers ``RNN`` /
``LSTM`` / ``GRU`` (``num_layers``, ``bidirectional``, ``batch_first``, ``dropout``), which also
take a :class:`~tensorgan.nn.utils.rnn.PackedSequence` (each sequence stops at its own length).

Everything is composed of differentiable Tensor ops (linear, sigmoid, tanh, chunk, stack,
concat), so gradients of gradients come for free.  A sequence layer projects the input of all
time steps in one matmul before its time loop; the loop does one hidden-to-hidden matmul per
step.  Gate order as torch's: LSTM ``i, f, g, o``; GRU ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``."""
from __future__ import annotations

import math
import warnings
from typing import Any

from .. import functional as F
from ..errors import ConfigError, InputTypeError, RNNInputDTypeError, ShapeError
from ..factory import concat, stack
from ..random import Generator
from ..ops import stable_sigmoid as _sigmoid
from ..tensor import Function, Tensor, _caller_level
from . import init
from .layers import _empty, _positive_int, _reset
from .module import Module, Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NONLINEARITY = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}


def _mode_of(owner: str, nonlinearity: Any) -> str:
    """``RNN_TANH`` / ``RNN_RELU`` for an Elman RNN's ``nonlinearity``; anything else refused."""
    if nonlinearity not in _NONLINEARITY:
        raise ConfigError(f"{owner}: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or 'relu'")
    return _NONLINEARITY[nonlinearity]


def _gru_composite(gi: Tensor, gh: Tensor, h: Tensor) -> Tensor:
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return (1 - z) * n + z * h


def _lstm_composite(gi: Tensor, gh: Tensor, c: Tensor) -> Tensor:
    i, f, g, o = (gi + gh).chunk(4, dim=-1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return concat([o.sigmoid() * c.tanh(), c], dim=-1)


class _GRUPointwise(Function):
    """A GRU step after its two matmuls, as one op: (gi, gh, h) -> h' (torch's fused GRU cell;
    the composite of chunk / sigmoid / tanh / * / + was 14 graph ops a step, each a Python
    round trip).  Gradients of gradients: backward's formulas in Tensor ops."""

    def forward(self, gi, gh, h):
        xp = self.xp
        k = h.shape[-1]
        r = _sigmoid(gi[..., :k] + gh[..., :k], xp)
        z = _sigmoid(gi[..., k:2 * k] + gh[..., k:2 * k], xp)
        hn = gh[..., 2 * k:]
        n = xp.tanh(gi[..., 2 * k:] + r * hn)
        self.saved = r, z, n, hn, h
        out = h - n
        out *= z
        out += n                            # (1 - z) * n + z * h
        return out

    def backward(self, g):
        xp = self.xp
        r, z, n, hn, h = self.saved
        k = h.shape[-1]
        gi = xp.empty(g.shape[:-1] + (3 * k,), dtype=g.dtype)
        gpre_n = g * (1 - z) * (1 - n * n)              # d / d(i_n + r * h_n)
        gi[..., :k] = gpre_n * hn * r * (1 - r)         # d / d r-pre-activation
        gi[..., k:2 * k] = g * (h - n) * z * (1 - z)    # d / d z-pre-activation
        gi[..., 2 * k:] = gpre_n
        gh = gi.copy()
        gh[..., 2 * k:] *= r
        return gi, gh, g * z

    def grad_graph(self, g):
        # backward's formulas in Tensor ops (not autograd of the composite: h is also upstream
        # of gh, and a walk from the composite to (gi, gh, h) would count that path twice)
        gi, gh, h = self.inputs
        k = h.shape[-1]
        r = (gi[..., :k] + gh[..., :k]).sigmoid()
        z = (gi[..., k:2 * k] + gh[..., k:2 * k]).sigmoid()
        hn = gh[..., 2 * k:]
        n = (gi[..., 2 * k:] + r * hn).tanh()
        gpre_n = g * (1 - z) * (1 - n * n)
        g_r = gpre_n * hn * r * (1 - r)
        g_z = g * (h - n) * z * (1 - z)
        return concat([g_r, g_z, gpre_n], dim=-1), concat([g_r, g_z, gpre_n * r], dim=-1), g * z


class _LSTMPointwise(Function):
    """An LSTM step after its two matmuls, as one op: (gi, gh, c) -> [h', c'] concatenated on
    the last axis (torch's fused LSTM cell; the composite was 13 graph ops a step).  Gradients of
    gradients: backward's formulas in Tensor ops."""

    def forward(self, gi, gh, c):
        xp = self.xp
        k = c.shape[-1]
        gates = gi + gh
        sig = _sigmoid(gates, xp)       # i, f, o used; g's slot is overwritten below
        tg = xp.tanh(gates[..., 2 * k:3 * k])
        out = xp.empty(c.shape[:-1] + (2 * k,), dtype=gates.dtype)
        c2 = out[..., k:]
        xp.multiply(sig[..., k:2 * k], c, out=c2)
        c2 += sig[..., :k] * tg
        tc = xp.tanh(c2)
        xp.multiply(sig[..., 3 * k:], tc, out=out[..., :k])
        self.saved = sig, tg, tc, c
        return out

    def backward(self, g):
        xp = self.xp
        sig, tg, tc, c = self.saved
        k = c.shape[-1]
        si, sf, so = sig[..., :k], sig[..., k:2 * k], sig[..., 3 * k:]
        gh_, gc_ = g[..., :k], g[..., k:]
        gc2 = gh_ * so * (1 - tc * tc) + gc_              # d / d c'
        ga = xp.empty(g.shape[:-1] + (4 * k,), dtype=g.dtype)
        ga[..., :k] = gc2 * tg * si * (1 - si)
        ga[..., k:2 * k] = gc2 * c * sf * (1 - sf)
        ga[..., 2 * k:3 * k] = gc2 * si * (1 - tg * tg)
        ga[..., 3 * k:] = gh_ * tc * so * (1 - so)
        return ga, ga, gc2 * sf

    def grad_graph(self, g):
        gi, gh, c = self.inputs                     # backward's formulas in Tensor ops
        k = c.shape[-1]
        i, f, gg, o = (gi + gh).chunk(4, dim=-1)
        si, sf, tg, so = i.sigmoid(), f.sigmoid(), gg.tanh(), o.sigmoid()
        tc = (sf * c + si * tg).tanh()
        gh_, gc_ = g[..., :k], g[..., k:]
        gc2 = gh_ * so * (1 - tc * tc) + gc_
        ga = concat([gc2 * tg * si * (1 - si), gc2 * c * sf * (1 - sf), gc2 * si * (1 - tg * tg),
                     gh_ * tc * so * (1 - so)], dim=-1)
        return ga, ga, gc2 * sf


def _fusable(*ts: Tensor) -> bool:
    """The fused cells take one float32 / float64 dtype (anything else: the composite)."""
    d = ts[0].array.dtype
    return d.char in "fd" and all(t.array.dtype == d for t in ts[1:])


def _step(mode: str, gi: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor, b_hh: Tensor | None,
          w_hr: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """One time step from the input's projection ``gi = x W_ih^T + b_ih`` (N, gates * H) and the
    previous state: ``(h', c')`` (``c'`` None except for an LSTM)."""
    gh = F.linear(h, w_hh, b_hh)
    if mode == "GRU":
        if _fusable(gi, gh, h):
            return _GRUPointwise.apply(gi, gh, h), None
        return _gru_composite(gi, gh, h), None
    if mode == "LSTM":
        hc = _LSTMPointwise.apply(gi, gh, c) if _fusable(gi, gh, c) else _lstm_composite(gi, gh, c)
        k = c.shape[-1]
        h, c = hc[..., :k], hc[..., k:]
        return (h if w_hr is None else F.linear(h, w_hr)), c
    gates = gi + gh
    return (gates.tanh() if mode == "RNN_TANH" else gates.relu()), None


def _check_tensor(owner: str, name: str, t: Any, ref: Tensor) -> None:
    """``t`` is a Tensor (not None) on ``ref``'s device, of its dtype (ref: the layer's first weight)."""
    if t is None:
        raise InputTypeError(f"{owner}: {name} must be a Tensor, got None")
    F._check_operand(owner, name, t, ref, "weights")


def _check_layer_input(owner: str, name: str, t: Any, ref: Tensor) -> None:
    """A sequence layer's input: as :func:`_check_tensor`, a dtype other than the weights' being
    torch's ValueError there (RNNInputDTypeError, a DTypeError too)."""
    if isinstance(t, Tensor) and t.dtype != ref.dtype and t.device is ref.device:
        raise RNNInputDTypeError(f"{owner}: {ref.dtype} and {t.dtype} tensors mixed (weights "
                                 f"{ref.dtype}, {name} {t.dtype}); convert one with "
                                 f".to({ref.dtype.name!r})")
    _check_tensor(owner, name, t, ref)


def _check_shape(owner: str, name: str, t: Tensor, wanted: tuple) -> None:
    if t.shape != wanted:
        raise ShapeError(f"{owner}: expected {name} of shape {wanted}, got {t.shape}")


def _uniform_all(module: Module, hidden_size: int, generator: Generator | None) -> None:
    """torch's init of every recurrent weight and bias: U(-1/sqrt(hidden), 1/sqrt(hidden))."""
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound, generator)


def _check_bool(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{owner}: {name} must be a bool, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------------------------
# Cells: one time step.
# ---------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """torch's ``nn.RNNCellBase(input_size, hidden_size, bias, num_chunks, device=None,
    dtype=None)``, the base of RNNCell / LSTMCell / GRUCell: the weights ``weight_ih``
    (num_chunks * H, H_in), ``weight_hh`` (num_chunks * H, H) and, with ``bias``, ``bias_ih`` /
    ``bias_hh`` (num_chunks * H,), all from U(-1/sqrt(H), 1/sqrt(H)).  ``mode`` (the cell kind
    the subclasses set) picks the step; the base itself has no forward, as torch's."""
    mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None, *, generator: Generator | None = None):
        super().__init__()
        owner = type(self).__name__
        self.input_size = _positive_int("input_size", input_size, owner)
        self.hidden_size = _positive_int("hidden_size", hidden_size, owner)
        self.bias = _check_bool(owner, "bias", bias)
        rows = _positive_int("num_chunks", num_chunks, owner) * self.hidden_size
        self.weight_ih = _empty((rows, self.input_size), dtype, device)
        self.weight_hh = _empty((rows, self.hidden_size), dtype, device)
        for name in ("bias_ih", "bias_hh"):
            self.register_parameter(name, _empty((rows,), dtype, device) if bias else None)
        _reset(self, generator)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """Re-draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        _uniform_all(self, self.hidden_size, generator)

    def _states(self, input: Any, hx: Any, count: int) -> tuple[Tensor, list, bool]:
        """(input as (N, H_in), the ``count`` states as (N, H) -- zeros when ``hx`` is None --,
        whether the input was batched), after checking them all."""
        owner = type(self).__name__
        _check_tensor(owner, "input", input, self.weight_ih)
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ShapeError(f"{owner}: expected input of shape (N, {self.input_size}) or "
                             f"({self.input_size},), got {input.shape}")
        batched = input.ndim == 2
        wanted = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if hx is None:
            states = [input.new_zeros(*wanted)] * count
        else:
            states = [hx] if count == 1 else _pair(owner, hx)
            for k, state in enumerate(states):
                name = "hx" if count == 1 else f"hx[{k}]"
                _check_tensor(owner, name, state, self.weight_ih)
                _check_shape(owner, name, state, wanted)
        if not batched:
            input, states = input.unsqueeze(0), [s.unsqueeze(0) for s in states]
        return input, states, batched

    def _cell(self, input: Any, hx: Any, count: int) -> tuple[Tensor, Tensor | None, bool]:
        x, states, batched = self._states(input, hx, count)
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        h, c = _step(self.mode, gi, states[0], states[-1] if count == 2 else None,
                     self.weight_hh, self.bias_hh)
        if not batched:
            h, c = h.squeeze(0), None if c is None else c.squeeze(0)
        return h, c, batched

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


def _resize(h: Tensor, c: Tensor | None, rows: int, h0: Tensor, c0: Tensor | None,
            done: list) -> tuple[Tensor, Tensor | None]:
    """The states cut to the first ``rows`` sequences of a packed batch when some have ended
    (their ``(h, c)`` appended to ``done``), or grown with the initial states ``h0`` / ``c0`` of
    the sequences that start here (the backward direction meets the short ones last)."""
    n = h.shape[0]
    if rows < n:
        done.append((h[rows:], None if c is None else c[rows:]))
        return h[:rows], None if c is None else c[:rows]
    return concat([h, h0[n:rows]]), None if c is None else concat([c, c0[n:rows]])


def _pair(owner: str, hx: Any) -> list:
    """An LSTM's ``(h, c)``: a tuple or list of two."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise InputTypeError(f"{owner}: hx must be a tuple (h, c) of two Tensors, got "
                             f"{type(hx).__name__}")
    return list(hx)


class RNNCell(RNNCellBase):
    """An Elman cell: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, act tanh or relu.
    Input (N, H_in) or unbatched (H_in,); hx of (N, H) / (H,), zeros when None."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None, *, generator: Generator | None = None):
        mode = _mode_of("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, 1, device, dtype, generator=generator)
        self.mode, self.nonlinearity = mode, nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._cell(input, hx, 1)[0]


class LSTMCell(RNNCellBase):
    """An LSTM cell (gates i, f, g, o): ``c' = f * c + i * g``, ``h' = o * tanh(c')``.
    Returns ``(h', c')``; hx is ``(h, c)`` or None (zeros)."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, generator: Generator | None = None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype, generator=generator)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple[Tensor, Tensor]:
        h, c, _ = self._cell(input, hx, 2)
        return h, c


class GRUCell(RNNCellBase):
    """A GRU cell (gates r, z, n): ``h' = (1 - z) * n + z * h`` with
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, generator: Generator | None = None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype, generator=generator)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._cell(input, hx, 1)[0]


# ---------------------------------------------------------------------------------------------
# Sequence layers.
# ---------------------------------------------------------------------------------------------
class RNNBase(Module):
    """torch's RNNBase: per layer ``k`` and direction the parameters ``weight_ih_l{k}``
    (gates * H, H_in of that layer), ``weight_hh_l{k}`` (gates * H, H_out), ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (with ``bias``), ``weight_hr_l{k}`` (LSTM with ``proj_size``: (H_out, H)),
    the backward direction's with the suffix ``_reverse``.  Input (L, N, H_in) -- (N, L, H_in)
    with ``batch_first`` -- or unbatched (L, H_in); output (L, N, D * H_out) in the input's
    layout and the final states (D * num_layers, N, H_out) (always batch second).

    A PackedSequence input (``nn.utils.rnn``; ``batch_first`` does not apply to it) gives a
    PackedSequence output, as torch's: each sequence runs for its own length only, so its final
    states are those after its last valid step (the backward direction starts there), in the
    original batch order (hx is given in that order too).  The inter-layer ``dropout`` masks come
    from the default generator, as torch's (its recurrent layers take no generator), so
    ``tg.manual_seed`` reproduces them; ``generator=`` here seeds only the initialization."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None, *,
                 generator: Generator | None = None):
        super().__init__()
        owner = type(self).__name__
        self.mode = mode
        self.input_size = _positive_int("input_size", input_size, owner)
        self.hidden_size = _positive_int("hidden_size", hidden_size, owner)
        self.num_layers = _positive_int("num_layers", num_layers, owner)
        self.bias = _check_bool(owner, "bias", bias)
        self.batch_first = _check_bool(owner, "batch_first", batch_first)
        self.bidirectional = _check_bool(owner, "bidirectional", bidirectional)
        self.dropout = self._check_dropout(owner, dropout)
        self.proj_size = self._check_proj_size(owner, proj_size)
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                self._add_layer(layer, direction, device, dtype)
        _reset(self, generator)

    def _check_dropout(self, owner: str, dropout: Any) -> float:
        if not 0.0 <= F._scalar(owner, "dropout", dropout) <= 1.0:
            raise ConfigError(f"{owner}: dropout must be a number in [0, 1] (the probability of "
                              f"zeroing an element), got {dropout!r}")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(f"{owner}: dropout is applied after all but the last recurrent layer, so "
                          f"dropout={dropout} with num_layers=1 does nothing", stacklevel=_caller_level())
        return float(dropout)

    def _check_proj_size(self, owner: str, proj_size: Any) -> int:
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ConfigError(f"{owner}: proj_size must be an int >= 0 (0: no projection), got {proj_size!r}")
        if proj_size and self.mode != "LSTM":
            raise ConfigError(f"{owner}: proj_size is only supported for LSTM, not RNN or GRU")
        if proj_size >= self.hidden_size:
            raise ConfigError(f"{owner}: proj_size ({proj_size}) must be smaller than hidden_size "
                              f"({self.hidden_size})")
        return proj_size

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _out_size(self) -> int:
        """H_out: the hidden state's width (proj_size when set)."""
        return self.proj_size or self.hidden_size

    def _add_layer(self, layer: int, direction: int, device: Any, dtype: Any) -> None:
        """Register one layer-direction's parameters under torch's names, in torch's order."""
        rows = _GATES[self.mode] * self.hidden_size
        width = self.input_size if layer == 0 else self._out_size * self.num_directions
        shapes = {"weight_ih": (rows, width), "weight_hh": (rows, self._out_size)}
        if self.bias:
            shapes.update(bias_ih=(rows,), bias_hh=(rows,))
        if self.proj_size:
            shapes["weight_hr"] = (self.proj_size, self.hidden_size)
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        names = [name + suffix for name in shapes]
        for name, shape in zip(names, shapes.values()):
            setattr(self, name, _empty(shape, dtype, device))
        self._flat_weights_names.extend(names)
        self._all_weights.append(names)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """Re-draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        _uniform_all(self, self.hidden_size, generator)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters per layer-direction, as torch's ``all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """torch's cuDNN weight-packing hook: nothing to do here (kept so torch code runs)."""

    @property
    def _flat_weights(self) -> list[Parameter]:
        """The parameters in ``_flat_weights_names`` order (torch's list, read by weight-drop
        wrappers and custom RNN subclasses)."""
        return [getattr(self, name) for name in self._flat_weights_names]

    # torch's RNNBase helpers, for subclasses that override forward and call them
    def check_input(self, input: Tensor, batch_sizes: Tensor | None) -> None:
        """torch's: the input's dtype is the weights' (else a ValueError), it has 3 dims (2 for a
        PackedSequence's data, ``batch_sizes`` given) and ``input_size`` features."""
        owner, ref = type(self).__name__, getattr(self, "weight_ih_l0")
        if not isinstance(input, Tensor):
            raise InputTypeError(f"{owner}.check_input: input must be a Tensor, got {type(input).__name__}")
        if input.dtype != ref.dtype:
            raise RNNInputDTypeError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                                     f"({ref.dtype}). Convert input: input.to({ref.dtype}), or "
                                     f"convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.ndim != expected:
            raise ShapeError(f"input must have {expected} dimensions, got {input.ndim}")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.shape[-1]}")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:
        """(D * num_layers, batch, H_out): hx's shape for this input (batch_sizes[0] rows for a
        PackedSequence's data)."""
        batch = int(batch_sizes[0]) if batch_sizes is not None else \
            input.shape[0 if self.batch_first else 1]
        return (self.num_layers * self.num_directions, batch, self._out_size)

    def check_hidden_size(self, hx: Tensor, expected_hidden_size: tuple,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.shape) != tuple(expected_hidden_size):
            raise ShapeError(msg.format(tuple(expected_hidden_size), list(hx.shape)))

    def check_forward_args(self, input: Tensor, hidden: Any, batch_sizes: Tensor | None) -> None:
        """torch's: :meth:`check_input`, then hx's shape (LSTM: h's and c's)."""
        self.check_input(input, batch_sizes)
        if self.mode != "LSTM":
            self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))
            return
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:
        """LSTM's c shape: (D * num_layers, batch, hidden_size)."""
        lead, batch, _ = self.get_expected_hidden_size(input, batch_sizes)
        return (lead, batch, self.hidden_size)

    def permute_hidden(self, hx: Any, permutation: Tensor | None) -> Any:
        """hx (LSTM: each of (h, c)) with its batch dim (1) reordered by ``permutation``."""
        if permutation is None:
            return hx
        if self.mode == "LSTM":
            return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)
        return hx.index_select(1, permutation)

    def _state_shapes(self, batch: int | None) -> list[tuple]:
        """The expected shapes of hx's tensors, (h,) or (h, c): (D * layers, batch, width), without
        the batch dim for an unbatched input (``batch`` None)."""
        lead = (self.num_layers * self.num_directions,) + (() if batch is None else (batch,))
        widths = (self._out_size, self.hidden_size) if self.mode == "LSTM" else (self.hidden_size,)
        return [lead + (w,) for w in widths]

    def _initial_states(self, hx: Any, shapes: list[tuple], like: Tensor) -> list[Tensor]:
        """hx's tensors checked against ``shapes`` (zeros like ``like`` when hx is None)."""
        owner, ref = type(self).__name__, getattr(self, "weight_ih_l0")
        if hx is None:
            return [like.new_zeros(*shape) for shape in shapes]
        states = _pair(owner, hx) if self.mode == "LSTM" else [hx]
        for k, (state, shape) in enumerate(zip(states, shapes)):
            name = "hx" if len(shapes) == 1 else f"hx[{k}]"
            _check_tensor(owner, name, state, ref)
            _check_shape(owner, name, state, shape)
        return states

    def _check_inputs(self, input: Any, hx: Any) -> tuple[Tensor, list, bool]:
        """(input as (L, N, H_in), the states as (D * layers, N, width) -- zeros when hx is
        None --, whether the input was batched), after checking them."""
        owner, ref = type(self).__name__, getattr(self, "weight_ih_l0")
        _check_layer_input(owner, "input", input, ref)
        layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ShapeError(f"{owner}: expected input of shape {layout} or unbatched (L, H_in) with "
                             f"H_in = input_size = {self.input_size}, got {input.shape}")
        batched = input.ndim == 3
        if input.shape[1 if batched and self.batch_first else 0] == 0:
            raise ShapeError(f"{owner}: the sequence length must be at least 1, got input of shape "
                             f"{input.shape}")
        batch = input.shape[0 if self.batch_first else 1] if batched else None
        states = self._initial_states(hx, self._state_shapes(batch), input)
        if not batched:
            input, states = input.unsqueeze(1), [s.unsqueeze(1) for s in states]
        elif self.batch_first:
            input = input.transpose(0, 1)
        return input, states, batched

    def _check_packed(self, input: PackedSequence, hx: Any) -> tuple[list[int], list]:
        """(the batch size of each step, the states in the packed (sorted) batch order)."""
        owner, ref = type(self).__name__, getattr(self, "weight_ih_l0")
        data = input.data
        _check_layer_input(owner, "input.data", data, ref)
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise ShapeError(f"{owner}: expected a PackedSequence of data (sum of lengths, H_in) with "
                             f"H_in = input_size = {self.input_size}, got data of shape {data.shape}")
        sizes = [int(n) for n in input.batch_sizes.numpy()]
        if not sizes or sum(sizes) != data.shape[0]:
            raise ShapeError(f"{owner}: the PackedSequence's batch_sizes (sum {sum(sizes)}) do not match "
                             f"its data of shape {data.shape}")
        states = self._initial_states(hx, self._state_shapes(sizes[0]), data)
        if hx is not None and input.sorted_indices is not None:      # into the packed order
            states = [s.index_select(1, input.sorted_indices) for s in states]
        return sizes, states

    def _direction(self, x: Tensor, sizes: list[int], h: Tensor, c: Tensor | None, layer: int,
                   reverse: bool) -> tuple[Tensor, Tensor, Tensor | None]:
        """One layer in one direction over packed rows x (sum(sizes), width), ``sizes[t]`` of them
        at step t (non-increasing: the sequences still running, longest first): (outputs
        (sum(sizes), H_out) in x's order, h_n, c_n).  Each sequence stops at its own length, so
        its final state is the one after its last step.  The input projection of every step is
        one matmul; the loop does the hidden ones."""
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        param = lambda name: getattr(self, name + suffix, None)  # noqa: E731
        steps = F.linear(x, param("weight_ih"), param("bias_ih")).split(sizes)
        h0, c0, done = h, c, []
        if reverse and sizes and sizes[-1] != h.shape[0]:   # backward: only the longest start
            h, c = h[:sizes[-1]], None if c is None else c[:sizes[-1]]
        outs: list = [None] * len(steps)
        for t in (reversed(range(len(steps))) if reverse else range(len(steps))):
            if sizes[t] != h.shape[0]:
                h, c = _resize(h, c, sizes[t], h0, c0, done)
            h, c = _step(self.mode, steps[t], h, c, param("weight_hh"), param("bias_hh"), param("weight_hr"))
            outs[t] = h
        if done:        # the finished sequences' states, in batch order (the last to end first)
            h = concat([h] + [d[0] for d in reversed(done)])
            c = None if c is None else concat([c] + [d[1] for d in reversed(done)])
        return concat(outs), h, c

    def _layers(self, x: Tensor, sizes: list[int], states: list) -> tuple[Tensor, list]:
        """Every layer over packed rows x (see :meth:`_direction`): (the last layer's outputs
        (sum(sizes), D * H_out), the final states [(D * layers, N, width)]).

        Between layers, dropout draws its masks from the default generator, as torch's (whose
        recurrent layers take no generator): ``tg.manual_seed`` makes them reproducible."""
        h0s = states[0].unbind(0)
        c0s = states[1].unbind(0) if self.mode == "LSTM" else [None] * len(h0s)
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout)
            outs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                out, h, c = self._direction(x, sizes, h0s[k], c0s[k], layer, bool(direction))
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if len(outs) == 1 else concat(outs, dim=-1)
        return x, [stack(h_n)] + ([stack(c_n)] if self.mode == "LSTM" else [])

    def _run(self, input: Any, hx: Any) -> tuple[Any, list]:
        """(output in the caller's layout -- a PackedSequence for a packed input --, the final
        states [(D * layers, N, width)], in the caller's batch order)."""
        if isinstance(input, PackedSequence):
            sizes, states = self._check_packed(input, hx)
            out, finals = self._layers(input.data, sizes, states)
            if input.unsorted_indices is not None:
                finals = [s.index_select(1, input.unsorted_indices) for s in finals]
            return PackedSequence(out, input.batch_sizes, input.sorted_indices, input.unsorted_indices), finals
        x, states, batched = self._check_inputs(input, hx)
        steps, batch = x.shape[:2]
        out, finals = self._layers(x.reshape(steps * batch, x.shape[2]), [batch] * steps, states)
        x = out.reshape(steps, batch, out.shape[-1])
        if not batched:
            return x.squeeze(1), [s.squeeze(1) for s in finals]
        return (x.transpose(0, 1) if self.batch_first else x), finals

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


def _device_dtype(owner: str, rest: tuple, device: Any, dtype: Any) -> tuple[Any, Any]:
    """RNN / GRU's ``device`` and ``dtype`` from the positional arguments after
    ``bidirectional`` (``rest``) and the keywords.  torch's RNN / GRU pass their positional
    arguments on to RNNBase, whose next one is ``proj_size`` (then device, dtype): an int there
    is that slot (it must be 0, as these layers have no projection); anything else (a device
    string, None) starts the documented order ``device, dtype``."""
    if rest and isinstance(rest[0], int) and not isinstance(rest[0], bool):
        if rest[0] != 0:
            raise ConfigError(f"{owner}: the proj_size argument is only supported for LSTM, not "
                              f"RNN or GRU (got proj_size={rest[0]!r} as the argument after "
                              f"bidirectional)")
        rest = rest[1:]
    if len(rest) > 2:
        raise TypeError(f"{owner}.__init__(): too many positional arguments (torch's order: "
                        f"input_size, hidden_size, num_layers, {'nonlinearity, ' if owner == 'RNN' else ''}"
                        f"bias, batch_first, dropout, bidirectional, proj_size (0), device, dtype)")
    if rest:
        if device is not None or (len(rest) > 1 and dtype is not None):
            name = "device" if device is not None else "dtype"
            raise TypeError(f"{owner}.__init__() got multiple values for argument {name!r}")
        device = rest[0]
        dtype = rest[1] if len(rest) > 1 else dtype
    return device, dtype


def _refuse_proj_size(owner: str, kwargs: dict) -> None:
    """torch's RNN / GRU refuse a ``proj_size`` keyword (even 0) with a ValueError; any other
    unexpected keyword is Python's TypeError, as before."""
    if "proj_size" in kwargs:
        raise ConfigError(f"{owner}: the proj_size argument is only supported for LSTM, not RNN or GRU "
                          f"(got proj_size={kwargs['proj_size']!r})")
    if kwargs:
        raise TypeError(f"{owner}.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")


class RNN(RNNBase):
    """A multi-layer Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` with act
    tanh or relu (``nonlinearity``, torch's fourth positional argument).  ``forward(input,
    hx=None)`` returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, *args: Any, device: Any = None, dtype: Any = None,
                 generator: Generator | None = None, **kwargs: Any):
        _refuse_proj_size("RNN", kwargs)
        device, dtype = _device_dtype("RNN", args, device, dtype)
        super().__init__(_mode_of("RNN", nonlinearity), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, 0, device, dtype, generator=generator)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        output, finals = self._run(input, hx)
        return output, finals[0]


class LSTM(RNNBase):
    """A multi-layer LSTM (gates i, f, g, o; ``proj_size`` > 0 projects h with ``weight_hr``).
    ``forward(input, hx=None)`` with hx ``(h_0, c_0)`` returns ``(output, (h_n, c_n))``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None, *,
                 generator: Generator | None = None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype, generator=generator)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """A multi-layer GRU (gates r, z, n).  ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 *args: Any, device: Any = None, dtype: Any = None,
                 generator: Generator | None = None, **kwargs: Any):
        _refuse_proj_size("GRU", kwargs)
        device, dtype = _device_dtype("GRU", args, device, dtype)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype, generator=generator)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        output, finals = self._run(input, hx)
        return output, finals[0]
