"""PyTorch's ``torch.nn.utils.rnn``: variable-length sequences for the recurrent layers.

A batch of sequences of different lengths is either *padded* -- one tensor (T, B, *) (or
(B, T, *) with ``batch_first``) plus the lengths -- or *packed*: a :class:`PackedSequence` whose
``data`` holds, time step after time step, the elements of the sequences still running at that
step (longest sequence first), and ``batch_sizes[t]`` says how many there are.  ``nn.RNN`` /
``LSTM`` / ``GRU`` run a packed batch so that each sequence stops at its own length::

    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    out, h_n = gru(packed)                    # h_n: each sequence's state at its last step
    y, lengths = pad_packed_sequence(out)

Every conversion is one gather (an index_select), so gradients flow back through it.  Unlike
torch, lengths longer than the padded input and non-whole lengths are refused (torch reads past
the input, or truncates)."""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Iterable

import numpy as np

from ... import functional as F
from ...errors import InputTypeError, SequencePackingError, ShapeError
from ...factory import concat, tensor
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                     "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """A packed batch (a named tuple, torch's field order): ``data`` (sum of lengths, *) step by
    step, ``batch_sizes`` (int64, on the CPU) the number of sequences at each step, and -- when the
    batch was sorted by length on packing -- ``sorted_indices`` (the original index of each packed
    column) and ``unsorted_indices`` (its inverse), None when the input was already sorted.
    Build one with :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand."""

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> "PackedSequence":
        if batch_sizes is None:      # torch's legacy form: PackedSequence((data, batch_sizes))
            if not isinstance(data, (tuple, list)) or len(data) != 2:
                raise InputTypeError("PackedSequence: give data and batch_sizes (two Tensors), got "
                                     f"{type(data).__name__} alone")
            data, batch_sizes = data
        for name, value in (("data", data), ("batch_sizes", batch_sizes)):
            if not isinstance(value, Tensor):
                raise InputTypeError(f"PackedSequence: {name} must be a Tensor, got {type(value).__name__}")
        if batch_sizes.device.type != "cpu" or batch_sizes.ndim != 1 or batch_sizes.dtype.kind not in "iu":
            raise InputTypeError("PackedSequence: batch_sizes must be a 1-D integer tensor on the CPU, "
                                 f"got {batch_sizes.ndim}-D {batch_sizes.dtype} on {batch_sizes.device}; "
                                 "make packed sequences with pack_padded_sequence / pack_sequence")
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        """``data.to(...)`` (a dtype, a device or both); the indices follow data's device and
        ``batch_sizes`` stays on the CPU, as torch's.  Returns self when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = lambda idx: None if idx is None else idx.to(data.device)  # noqa: E731
        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cpu(self) -> "PackedSequence": return self.to("cpu")
    def cuda(self) -> "PackedSequence": return self.to("cuda")
    def float(self) -> "PackedSequence": return self.to("float32")
    def double(self) -> "PackedSequence": return self.to("float64")
    def half(self) -> "PackedSequence": return self.to("float16")
    def long(self) -> "PackedSequence": return self.to("int64")
    def int(self) -> "PackedSequence": return self.to("int32")        # noqa: A003  (torch's name)
    def short(self) -> "PackedSequence": return self.to("int16")
    def char(self) -> "PackedSequence": return self.to("int8")
    def byte(self) -> "PackedSequence": return self.to("uint8")

    @property
    def is_cuda(self) -> bool:
        """Whether data lives on the GPU."""
        return self.data.device.type == "cuda"


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse permutation (``out[permutation[i]] = i``), int64 on permutation's device; None
    for None."""
    if permutation is None:
        return None
    perm = permutation.numpy().astype(np.int64).reshape(-1)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    return tensor(inverse, device=permutation.device)


# ---------------------------------------------------------------------------------------------
# Helpers: argument checks and the one gather every conversion is.
# ---------------------------------------------------------------------------------------------
def _lengths(owner: str, lengths: Any) -> np.ndarray:
    """``lengths`` (a list, tuple, NumPy array or 1-D tensor of whole numbers) as int64."""
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise ShapeError(f"{owner}: lengths must be 1-D, got a tensor of shape {lengths.shape}")
        lengths = lengths.numpy()
    try:
        arr = np.asarray(lengths)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iuf"):
        raise InputTypeError(f"{owner}: lengths must be a 1-D sequence of ints, got {lengths!r:.80}")
    if arr.dtype.kind == "f" and not (arr == np.trunc(arr)).all():
        raise InputTypeError(f"{owner}: lengths must be whole numbers, got {arr.tolist()}")
    return arr.astype(np.int64)


def _check_sequence_tensor(owner: str, name: str, t: Any) -> None:
    F._check_rank(owner, name, t, range(1, 33), "at least 1-D (a length first)")


def _gather(source: Tensor, rows: np.ndarray, padding_value: float | None = None) -> Tensor:
    """``source`` (n, *) at ``rows`` (any shape) -> (*rows.shape, *): the rows picked in one
    differentiable index_select; with ``padding_value``, row index n means a padding row."""
    if padding_value is not None:
        source = concat([source, source.new_full((1,) + source.shape[1:], padding_value)])
    return source.index_select(0, rows.reshape(-1)).reshape(*rows.shape, *source.shape[1:])


def _indices_tensor(values: np.ndarray | None, like: Tensor) -> Tensor | None:
    return None if values is None else tensor(values, device=like.device)


# ---------------------------------------------------------------------------------------------
# Padded <-> packed.
# ---------------------------------------------------------------------------------------------
def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) -- (B, T, *) with ``batch_first`` -- whose sequence ``b``
    has ``lengths[b]`` valid steps.  With ``enforce_sorted`` the lengths must already be in
    decreasing order; otherwise the batch is sorted here and the permutation kept in the result
    (``sorted_indices``), so that :func:`pad_packed_sequence` and the RNNs restore the order."""
    owner = "pack_padded_sequence"
    F._check_rank(owner, "input", input, range(2, 33), "(T, B, *) or (B, T, *) with batch_first")
    lengths = _lengths(owner, lengths)
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if batch == 0:
        raise ShapeError(f"{owner}: cannot pack empty tensors (input of shape {input.shape})")
    if len(lengths) != batch:
        raise ShapeError(f"{owner}: expected len(lengths) to be equal to batch_size, but got "
                         f"{len(lengths)} (batch_size={batch}, input of shape {input.shape})")
    if lengths.min() <= 0:
        raise ShapeError(f"{owner}: every length must be greater than 0, got lengths {lengths.tolist()}")
    if lengths.max() > steps:
        raise ShapeError(f"{owner}: lengths {lengths.tolist()} exceed the input's sequence length "
                         f"{steps} (input of shape {input.shape}, batch_first={batch_first})")
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise SequencePackingError(f"{owner}: lengths {lengths.tolist()} must be sorted in "
                                       "decreasing order when enforce_sorted is True; pass "
                                       "enforce_sorted=False to sort them here")
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")
    column = np.arange(batch) if order is None else order      # original batch index per column
    t, s = np.nonzero(lengths[column][None, :] > np.arange(lengths.max())[:, None])
    rows = column[s] * steps + t if batch_first else t * batch + column[s]
    data = _gather(input.reshape(steps * batch, *input.shape[2:]), rows)
    batch_sizes = tensor((lengths[:, None] > np.arange(lengths.max())).sum(0))
    return PackedSequence(data, batch_sizes, _indices_tensor(order, input))


def _sorted_lengths(batch_sizes: np.ndarray) -> np.ndarray:
    """The length of each packed column (longest first): the steps whose batch covers it."""
    return (batch_sizes[None, :] > np.arange(batch_sizes[0])[:, None]).sum(1)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)`` with padded (T, B, *) -- (B, T, *)
    with ``batch_first`` -- in the original batch order, ``padding_value`` past each length, T the
    longest length or ``total_length``; lengths int64 on the CPU."""
    owner = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise InputTypeError(f"{owner}: sequence must be a PackedSequence, got {type(sequence).__name__}")
    padding_value = F._scalar(owner, "padding_value", padding_value)
    sizes = sequence.batch_sizes.numpy().astype(np.int64)
    steps = len(sizes)
    if total_length is not None:
        if isinstance(total_length, bool) or not isinstance(total_length, (int, np.integer)):
            raise InputTypeError(f"{owner}: total_length must be an int or None, got {total_length!r}")
        if total_length < steps:
            raise ShapeError(f"{owner}: expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max sequence "
                             f"length being {steps}")
        steps = int(total_length)
    unsorted = sequence.unsorted_indices
    column = np.arange(sizes[0]) if unsorted is None else unsorted.numpy().astype(np.int64)
    lengths = _sorted_lengths(sizes)[column]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    t = np.arange(steps)[:, None]
    rows = np.where(t < lengths[None, :], offsets[np.minimum(t, len(sizes) - 1)] + column[None, :],
                    offsets[-1])
    padded = _gather(sequence.data, rows.T if batch_first else rows, padding_value)
    return padded, tensor(lengths)


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences (L_i, *) of one trailing shape into (T, B, *) -- (B, T, *) with
    ``batch_first`` --, T the longest length, ``padding_value`` after each sequence (before it with
    ``padding_side='left'``)."""
    owner = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise SequencePackingError(f"{owner}: expected padding_side to be one of 'left' or 'right', "
                                   f"got {padding_side!r}")
    padding_value = F._scalar(owner, "padding_value", padding_value)
    seqs = _sequence_list(owner, sequences)
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    t = np.arange(lengths.max())[:, None]
    if padding_side == "left":
        t = t - (lengths.max() - lengths)[None, :]         # each sequence's step at row t
    rows = np.where((t >= 0) & (t < lengths[None, :]), starts[:-1][None, :] + t, starts[-1])
    return _gather(concat(seqs), rows.T if batch_first else rows, padding_value)


def _sequence_list(owner: str, sequences: Any) -> list:
    """The sequences as a non-empty list of tensors of one trailing shape and device, each in
    sequences[0]'s dtype (torch fills a result of the first one's dtype: a float64 sequence
    after a float32 one is rounded to float32)."""
    try:
        seqs = list(sequences)
    except TypeError:
        raise InputTypeError(f"{owner}: sequences must be a list of Tensors, got "
                             f"{type(sequences).__name__}") from None
    if not seqs:
        raise ShapeError(f"{owner}: received an empty list of sequences")
    for i, s in enumerate(seqs):
        _check_sequence_tensor(owner, f"sequences[{i}]", s)
        F._check_operand(owner, f"sequences[{i}]", s, seqs[0], "sequences[0]", same_dtype=False)
        if s.shape[1:] != seqs[0].shape[1:]:
            raise ShapeError(f"{owner}: every sequence must have the trailing shape of sequences[0] "
                             f"{seqs[0].shape[1:]}, got sequences[{i}] of shape {s.shape}")
    return [s if s.dtype == seqs[0].dtype else s.to(seqs[0].dtype) for s in seqs]


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """Undo :func:`pad_sequence`: the list of ``padded[:lengths[b], b]`` (``padded[b, :lengths[b]]``
    with ``batch_first``)."""
    owner = "unpad_sequence"
    F._check_rank(owner, "padded_sequences", padded_sequences, range(2, 33),
                  "(T, B, *) or (B, T, *) with batch_first")
    lengths = _lengths(owner, lengths)
    padded = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    if len(lengths) != padded.shape[0] or (lengths < 0).any() or (lengths > padded.shape[1]).any():
        raise ShapeError(f"{owner}: lengths {lengths.tolist()} do not fit padded_sequences of shape "
                         f"{padded_sequences.shape} (batch_first={batch_first}): one length in [0, "
                         f"{padded.shape[1]}] per sequence")
    return [padded[b, :int(n)] for b, n in enumerate(lengths)]


def pack_sequence(sequences: Iterable[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) (longest first with ``enforce_sorted``)."""
    seqs = _sequence_list("pack_sequence", sequences)
    return pack_padded_sequence(pad_sequence(seqs), [s.shape[0] for s in seqs],
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo :func:`pack_sequence`: the list of sequences, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
