"""``nn.utils.rnn`` (PackedSequence, pack / pad and their inverses) against NumPy loops written
from torch's documentation, and the recurrent layers on packed batches: by definition each
sequence is run alone at its own length, so the expected outputs and final states come from
running the same layer on each sequence separately.  Plus float64 gradchecks and the refusals."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError
from tensorgan.nn.utils import rnn
from tensorgan.nn.utils.rnn import (PackedSequence, invert_permutation, pack_padded_sequence, pack_sequence,
                                    pad_packed_sequence, pad_sequence, unpack_sequence, unpad_sequence)


def sample(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def np_pack(x, lengths, batch_first=False):
    """torch's packing, one element at a time: step t holds the sequences longer than t, longest
    first (a stable sort: ties keep their order)."""
    x = np.swapaxes(x, 0, 1) if batch_first else x
    order = sorted(range(len(lengths)), key=lambda b: -lengths[b])
    rows, sizes = [], []
    for t in range(max(lengths)):
        running = [b for b in order if lengths[b] > t]
        rows += [x[t, b] for b in running]
        sizes.append(len(running))
    return np.stack(rows), np.array(sizes), np.array(order)


# -- the conversions ------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 3, 1], True), ([2, 5, 1, 4], False),
                                                    ([4, 4, 4, 4], False)])
def test_pack_padded_sequence_matches_the_loop(batch_first, lengths, enforce_sorted):
    x = sample((4, 5, 3) if batch_first else (5, 4, 3))
    packed = pack_padded_sequence(t64(x), lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    data, sizes, order = np_pack(x, lengths, batch_first)
    assert isinstance(packed, tuple) and PackedSequence._fields == ("data", "batch_sizes", "sorted_indices",
                                                                    "unsorted_indices")
    np.testing.assert_array_equal(packed.data.numpy(), data)
    assert packed.batch_sizes.dtype == tg.int64 and packed.batch_sizes.tolist() == sizes.tolist()
    if enforce_sorted:
        assert packed.sorted_indices is None and packed.unsorted_indices is None
    else:
        assert packed.sorted_indices.dtype == tg.int64
        assert packed.sorted_indices.tolist() == order.tolist()
        assert packed.unsorted_indices.tolist() == np.argsort(order).tolist()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pad_packed_sequence_restores_order_and_pads(batch_first, total_length):
    lengths = [2, 5, 1, 4]
    x = sample((5, 4, 3))
    packed = pack_padded_sequence(t64(x), tg.tensor(lengths), enforce_sorted=False)
    padded, out_lengths = pad_packed_sequence(packed, batch_first=batch_first, padding_value=-9.0,
                                              total_length=total_length)
    steps = total_length or 5
    expected = np.full((steps, 4, 3), -9.0)
    for b, n in enumerate(lengths):
        expected[:n, b] = x[:n, b]
    np.testing.assert_array_equal(padded.numpy(), np.swapaxes(expected, 0, 1) if batch_first else expected)
    assert out_lengths.dtype == tg.int64 and out_lengths.tolist() == lengths


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_the_loop(batch_first, padding_side):
    seqs = [sample((n, 2), n) for n in (3, 0, 5, 2)]
    out = pad_sequence([t64(s) for s in seqs], batch_first, 1.5, padding_side)
    expected = np.full((5, 4, 2), 1.5)
    for b, s in enumerate(seqs):
        if len(s):
            expected[:len(s), b] = s if padding_side == "right" else 0
            if padding_side == "left":
                expected[:, b] = 1.5
                expected[5 - len(s):, b] = s
    np.testing.assert_array_equal(out.numpy(), np.swapaxes(expected, 0, 1) if batch_first else expected)


def test_round_trips():
    seqs = [t64(sample((n, 2, 2), n)) for n in (2, 4, 1)]
    back = unpack_sequence(pack_sequence(seqs, enforce_sorted=False))
    assert [s.shape for s in back] == [(2, 2, 2), (4, 2, 2), (1, 2, 2)]
    for a, b in zip(seqs, back):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for batch_first in (False, True):
        padded = pad_sequence(seqs, batch_first=batch_first)
        for a, b in zip(seqs, unpad_sequence(padded, [2, 4, 1], batch_first=batch_first)):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_integer_sequences_stay_integers():
    seqs = [tg.tensor([1, 2, 3]), tg.tensor([4])]
    out = pad_sequence(seqs, padding_value=-1)
    assert out.dtype == tg.int64 and out.tolist() == [[1, 4], [2, -1], [3, -1]]
    packed = pack_sequence(seqs)
    assert packed.data.tolist() == [1, 4, 2, 3]


# -- gradients: the conversions are gathers -------------------------------------------------------
def test_pack_and_pad_gradcheck():
    x = t64(sample((4, 3, 2)), True)

    def fn(x):
        packed = pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        return pad_packed_sequence(packed, batch_first=True, padding_value=0.5)[0] * packed.data.sum()
    assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(fn, [x], projections=1)


def test_pad_sequence_gradcheck():
    a, b = t64(sample((3, 2), 1), True), t64(sample((1, 2), 2), True)
    fn = lambda a, b: pad_sequence([a, b], padding_side="left", padding_value=2.0) ** 2  # noqa: E731
    assert tg.gradcheck(fn, [a, b])
    assert tg.gradgradcheck(fn, [a, b], projections=1)


# -- the recurrent layers on packed batches -------------------------------------------------------
LAYERS = {"RNN_TANH": (nn.RNN, {}), "RNN_RELU": (nn.RNN, {"nonlinearity": "relu"}), "LSTM": (nn.LSTM, {}),
          "LSTM_PROJ": (nn.LSTM, {"proj_size": 2}), "GRU": (nn.GRU, {})}


def _layer(mode, layers, bidirectional, seed=0):
    tg.manual_seed(seed)
    cls, kwargs = LAYERS[mode]
    return cls(3, 4, layers, bidirectional=bidirectional, dtype=tg.float64, **kwargs)


def _states(m, batch, seed):
    lead = m.num_layers * m.num_directions
    h = t64(sample((lead, batch, m.proj_size or 4), seed))
    return (h, t64(sample((lead, batch, 4), seed + 1))) if isinstance(m, nn.LSTM) else h


def _column(hx, b):
    return tuple(s[:, b:b + 1] for s in hx) if isinstance(hx, tuple) else hx[:, b:b + 1]


@pytest.mark.parametrize("mode", list(LAYERS))
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 3, 1], True), ([2, 5, 1, 4], False)])
def test_packed_layer_is_each_sequence_run_alone(mode, layers, bidirectional, lengths, enforce_sorted):
    m = _layer(mode, layers, bidirectional)
    x = t64(sample((5, 4, 3), 7))
    hx = _states(m, 4, 8)
    out, state = m(pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted), hx)
    assert isinstance(out, PackedSequence) and out.batch_sizes is not None
    padded, _ = pad_packed_sequence(out)
    states = state if isinstance(state, tuple) else (state,)
    for b, n in enumerate(lengths):
        alone, alone_state = m(x[:n, b:b + 1], _column(hx, b))
        np.testing.assert_allclose(padded[:n, b:b + 1].numpy(), alone.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(padded[n:, b].numpy(), 0.0)
        alone_states = alone_state if isinstance(alone_state, tuple) else (alone_state,)
        for s, a in zip(states, alone_states):
            np.testing.assert_allclose(s[:, b:b + 1].numpy(), a.numpy(), rtol=0, atol=1e-12)


def test_packed_layer_without_hx_starts_from_zeros():
    m = _layer("GRU", 1, True)
    x = t64(sample((4, 3, 3), 1))
    out, h_n = m(pack_padded_sequence(x, [1, 4, 2], enforce_sorted=False))
    _, h_zero = m(pack_padded_sequence(x, [1, 4, 2], enforce_sorted=False), x.new_zeros(2, 3, 4))
    np.testing.assert_array_equal(h_n.numpy(), h_zero.numpy())
    np.testing.assert_allclose(h_n[:, 0].numpy(), m(x[:1, 0])[1].numpy(), rtol=0, atol=1e-12)


def test_batch_first_does_not_change_a_packed_input():
    a, b = _layer("LSTM", 1, False), _layer("LSTM", 1, False)
    b.batch_first = True
    packed = pack_sequence([t64(sample((3, 3), 1)), t64(sample((2, 3), 2))])
    np.testing.assert_array_equal(a(packed)[0].data.numpy(), b(packed)[0].data.numpy())


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_packed_layer_gradcheck(mode):
    tg.manual_seed(3)
    cls, kwargs = LAYERS[mode]
    m = cls(2, 2, 2, bidirectional=True, dtype=tg.float64, **kwargs)
    lstm = mode == "LSTM"
    x = t64(sample((3, 3, 2), 1), True)
    h, c = t64(sample((4, 3, 2), 2), True), t64(sample((4, 3, 2), 3), True)

    def fn(x, h, c, *params):
        out, state = m(pack_padded_sequence(x, [2, 3, 1], enforce_sorted=False), (h, c) if lstm else h)
        states = list(state) if lstm else [state]
        return tg.cat([pad_packed_sequence(out)[0].reshape(-1)] + [s.reshape(-1) for s in states])
    assert tg.gradcheck(fn, [x, h, c, m.weight_ih_l0, m.weight_hh_l0_reverse, m.bias_hh_l1], projections=1)
    assert tg.gradgradcheck(fn, [x, h, c, m.weight_hh_l1], projections=1)


def test_dropout_masks_come_from_the_default_generator():
    """As torch's recurrent layers (which take no generator): ``tg.manual_seed`` repeats them."""
    m = _layer("GRU", 2, False)
    m.dropout = 0.5
    packed = pack_sequence([t64(sample((4, 3), 1)), t64(sample((2, 3), 2))])
    tg.manual_seed(5)
    first = m(packed)[0].data.numpy()
    tg.manual_seed(5)
    np.testing.assert_array_equal(m(packed)[0].data.numpy(), first)
    m.eval()
    assert not np.array_equal(m(packed)[0].data.numpy(), first)


# -- PackedSequence itself ------------------------------------------------------------------------
def test_packed_sequence_conversions():
    packed = pack_sequence([tg.ones(3, 2), tg.ones(2, 2)], enforce_sorted=False)
    assert packed.float() is packed and not packed.is_cuda
    double = packed.double()
    assert isinstance(double, PackedSequence) and double.data.dtype == tg.float64
    assert double.batch_sizes is packed.batch_sizes and double.to("float32").data.dtype == tg.float32
    assert packed.long().data.dtype == tg.int64
    data, sizes, sorted_indices, unsorted_indices = packed
    assert sizes.tolist() == [2, 2, 1] and sorted_indices.tolist() == [0, 1]
    assert packed.half().data.dtype == tg.float16 and packed.half().batch_sizes is packed.batch_sizes
    rebuilt = PackedSequence(packed.data, packed.batch_sizes, tg.tensor([1, 0]))
    assert rebuilt.unsorted_indices.tolist() == [1, 0]
    assert invert_permutation(tg.tensor([2, 0, 1])).tolist() == [1, 2, 0] and invert_permutation(None) is None
    assert rnn is tg.nn.utils.rnn


# -- refusals -------------------------------------------------------------------------------------
def test_pack_refusals_name_the_values():
    x = tg.zeros(5, 3, 2)
    with pytest.raises(ConfigError, match=r"\[2, 3, 1\].*enforce_sorted=False"):
        pack_padded_sequence(x, [2, 3, 1])
    with pytest.raises(ShapeError, match=r"greater than 0.*\[3, 2, 0\]"):
        pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(ShapeError, match=r"got 2 \(batch_size=3"):
        pack_padded_sequence(x, [3, 2])
    with pytest.raises(ShapeError, match=r"\[6, 2, 1\] exceed the input's sequence length 5"):
        pack_padded_sequence(x, [6, 2, 1])
    with pytest.raises(InputTypeError, match="whole numbers"):
        pack_padded_sequence(x, [3, 2, 1.5])
    with pytest.raises(ShapeError, match="empty"):
        pack_padded_sequence(tg.zeros(5, 0, 2), [])
    with pytest.raises(ShapeError, match="input must be"):
        pack_padded_sequence(tg.zeros(5), [1])
    with pytest.raises(ShapeError, match="lengths must be 1-D"):
        pack_padded_sequence(x, tg.tensor([[3, 2, 1]]))


def test_pad_refusals_name_the_values():
    packed = pack_sequence([tg.ones(3, 2), tg.ones(2, 2)])
    with pytest.raises(ShapeError, match="total_length=2 and max sequence length being 3"):
        pad_packed_sequence(packed, total_length=2)
    with pytest.raises(InputTypeError, match="PackedSequence"):
        pad_packed_sequence(tg.ones(3, 2))
    with pytest.raises(ShapeError, match="empty list"):
        pad_sequence([])
    with pytest.raises(ShapeError, match=r"sequences\[1\] of shape \(3, 4\)"):
        pad_sequence([tg.ones(2, 3), tg.ones(3, 4)])
    with pytest.raises(ConfigError, match="'middle'"):
        pad_sequence([tg.ones(2, 3)], padding_side="middle")
    wide = tg.ones(1, 3, dtype=tg.float64, requires_grad=True)    # torch: sequences[0]'s dtype
    mixed = pad_sequence([tg.ones(2, 3), wide])
    assert mixed.dtype == tg.float32 and mixed[:, 1].sum().item() == 3.0
    mixed.sum().backward()
    assert wide.grad.dtype == tg.float64 and np.all(wide.grad.numpy() == 1.0)
    with pytest.raises(ShapeError, match=r"sequences\[0\] must be at least 1-D"):
        pad_sequence([tg.ones(())])
    with pytest.raises(ShapeError, match=r"lengths \[3, 9\] do not fit"):
        unpad_sequence(tg.ones(4, 2, 1), [3, 9])
    with pytest.raises(InputTypeError, match="batch_sizes"):
        PackedSequence(tg.ones(3, 2), tg.ones(2))


def test_packed_layer_refusals():
    m = _layer("LSTM", 1, False)
    packed = pack_padded_sequence(t64(sample((3, 2, 3))), [3, 1])
    with pytest.raises(ShapeError, match=r"hx\[0\].*\(1, 2, 4\)"):
        m(packed, (t64(np.zeros((1, 3, 4))), t64(np.zeros((1, 3, 4)))))
    wide = pack_padded_sequence(t64(sample((3, 2, 5))), [3, 1])
    with pytest.raises(ShapeError, match=r"input_size = 3, got data of shape \(4, 5\)"):
        m(wide)
    with pytest.raises(DTypeError):
        m(packed.float())
