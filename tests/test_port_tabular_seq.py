"""Gaps found porting tabular / sequence GANs (CTGAN, TVAE, TimeGAN, C-RNN-GAN, SeqGAN) to
tensorgan and running them beside torch."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


@pytest.mark.parametrize("reduction, scale", [("sum", 1.0), ("mean", 0.25)])
@pytest.mark.parametrize("create_graph", [False, True])
def test_bce_target_gradient_is_unclamped_minus_logit(reduction, scale, create_graph):
    # d/dt of -(t log p + (1 - t) log(1 - p)) is log(1 - p) - log(p) = -logit(p): torch's target
    # gradient uses it unclamped (+inf at p = 0, -inf at p = 1), although the loss itself clamps
    # each log at -100; tensorgan gave the clamped difference (+-100 / count)
    p_np = np.array([0.0, 1.0, 0.3, 0.8])
    p = tg.tensor(p_np, dtype=tg.float64, requires_grad=True)
    t = tg.tensor([0.0, 1.0, 1.0, 0.2], dtype=tg.float64, requires_grad=True)
    loss = F.binary_cross_entropy(p, t, reduction=reduction)
    assert loss.item() == pytest.approx(scale * -(np.log(0.3) + 0.2 * np.log(0.8) + 0.8 * np.log(0.2)))
    (gt,) = tg.autograd.grad(loss, (t,), create_graph=create_graph)
    got = gt.detach().numpy()
    assert got[0] == np.inf and got[1] == -np.inf
    with np.errstate(divide="ignore"):
        want = (np.log1p(-p_np) - np.log(p_np)) * scale
    np.testing.assert_allclose(got[2:], want[2:], rtol=1e-12)


def test_bce_target_gradient_with_weight():
    p = tg.tensor([0.25, 0.6], dtype=tg.float64)
    t = tg.tensor([0.5, 0.1], dtype=tg.float64, requires_grad=True)
    w = tg.tensor([2.0, 3.0], dtype=tg.float64)
    F.binary_cross_entropy(p, t, weight=w, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.numpy(), [2 * np.log(0.75 / 0.25), 3 * np.log(0.4 / 0.6)],
                               rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda: tg.multinomial(tg.tensor([[0.5, float("nan")]]), 1),   # NaN logits in a sampling loop
    lambda: tg.multinomial(tg.tensor([1.0, -1.0]), 1),
    lambda: tg.multinomial(tg.tensor([[0.0, 0.0]]), 1, True),
    lambda: tg.multinomial(tg.tensor([[0.5, 0.5]]), 3),
    lambda: tg.multinomial(tg.ones(3), 0),
    lambda: tg.multinomial(tg.ones(2, 0), 1),
    lambda: tg.multinomial(tg.ones(0), 1, True),
])
def test_multinomial_refusals_are_runtime_errors_as_torch(call):
    # SeqGAN-style samplers guard torch.multinomial with `except RuntimeError`; torch raises
    # RuntimeError for each of these. ConfigError stays a base (tensorgan raised that before).
    # An empty category dim gave NumPy's untyped "cannot reshape array of size 0" before.
    from tensorgan.errors import ConfigError
    with pytest.raises(RuntimeError, match="multinomial") as info:
        call()
    assert isinstance(info.value, ConfigError)


@pytest.mark.parametrize("count", [2.0, True])
def test_multinomial_non_int_count_is_a_type_error(count):
    from tensorgan.errors import ConfigError
    with pytest.raises(TypeError, match="num_samples must be an int") as info:
        tg.multinomial(tg.tensor([0.5, 0.5]), count)
    assert isinstance(info.value, ConfigError)


def test_multinomial_empty_batch_still_draws_nothing():
    out = tg.multinomial(tg.ones(0, 2), 1)
    assert out.shape == (0, 1) and out.dtype == tg.int64


def test_weighted_random_sampler_refusals_are_runtime_errors_too():
    from tensorgan.utils.data import WeightedRandomSampler
    for weights, n, replacement in (([1.0, float("nan")], 1, True), ([0.0, 0.0], 1, True),
                                    ([1.0, 1.0], 3, False)):
        with pytest.raises(RuntimeError, match="WeightedRandomSampler"):
            WeightedRandomSampler(weights, n, replacement=replacement)


@pytest.mark.parametrize("call", [
    lambda R: R.pack_padded_sequence(tg.zeros(3, 4, 2), [4, 2, 3], batch_first=True),
    lambda R: R.pack_sequence([tg.zeros(3, 2), tg.zeros(4, 2)]),
])
def test_unsorted_lengths_with_enforce_sorted_are_runtime_errors_as_torch(call):
    # torch: RuntimeError "`lengths` array must be sorted in decreasing order when
    # `enforce_sorted` is True"; ConfigError stays a base class
    import tensorgan.nn.utils.rnn as R
    from tensorgan.errors import ConfigError
    with pytest.raises(RuntimeError, match=r"decreasing order.*enforce_sorted=False") as info:
        call(R)
    assert isinstance(info.value, ConfigError)


def test_pad_sequence_unknown_padding_side_is_a_runtime_error_as_torch():
    import tensorgan.nn.utils.rnn as R
    from tensorgan.errors import ConfigError
    with pytest.raises(RuntimeError, match="padding_side.*'up'") as info:
        R.pad_sequence([tg.zeros(2), tg.zeros(3)], padding_side="up")
    assert isinstance(info.value, ConfigError)


# --- torch's RNNBase helper API (custom recurrent subclasses / weight-drop wrappers call it) ---
def test_rnn_flat_weights_are_the_parameters_in_torch_order():
    lstm = tg.nn.LSTM(2, 3, proj_size=2, bidirectional=True)
    flat = lstm._flat_weights
    assert [w is getattr(lstm, n) for w, n in zip(flat, lstm._flat_weights_names)] == [True] * 10
    assert lstm._flat_weights_names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                            "bias_hh_l0", "weight_hr_l0"]
    assert [tuple(w.shape) for w in flat[:5]] == [(12, 2), (12, 2), (12,), (12,), (2, 3)]


def test_rnn_expected_state_sizes():
    gru = tg.nn.GRU(2, 3, 2, bidirectional=True, batch_first=True)
    assert gru.get_expected_hidden_size(tg.zeros(4, 5, 2), None) == (4, 4, 3)
    lstm = tg.nn.LSTM(2, 3, 2, proj_size=1)
    assert lstm.get_expected_hidden_size(tg.zeros(4, 5, 2), None) == (2, 5, 1)
    assert lstm.get_expected_cell_size(tg.zeros(6, 2), tg.tensor([3, 2, 1])) == (2, 3, 3)


@pytest.mark.parametrize("make, args, message", [
    (lambda: tg.nn.GRU(2, 3), (tg.zeros(4, 5, 2), tg.zeros(1, 4, 3), None),
     r"Expected hidden size \(1, 5, 3\), got \[1, 4, 3\]"),
    (lambda: tg.nn.GRU(2, 3), (tg.zeros(4, 5), tg.zeros(1, 5, 3), None),
     "input must have 3 dimensions, got 2"),
    (lambda: tg.nn.GRU(2, 3), (tg.zeros(4, 3), tg.zeros(1, 3, 3), tg.tensor([3, 1])),
     "input.size\\(-1\\) must be equal to input_size. Expected 2, got 3"),
    (lambda: tg.nn.LSTM(2, 3, proj_size=2), (tg.zeros(4, 5, 2), (tg.zeros(1, 5, 2), tg.zeros(1, 5, 2)), None),
     r"Expected hidden\[1\] size \(1, 5, 3\), got \[1, 5, 2\]"),
])
def test_rnn_check_forward_args_refuses_as_torch(make, args, message):
    with pytest.raises(RuntimeError, match=message):
        make().check_forward_args(*args)


def test_rnn_check_forward_args_accepts_matching_states():
    assert tg.nn.GRU(2, 3).check_forward_args(tg.zeros(4, 5, 2), tg.zeros(1, 5, 3), None) is None
    lstm = tg.nn.LSTM(2, 3, proj_size=2)
    assert lstm.check_forward_args(tg.zeros(4, 5, 2), (tg.zeros(1, 5, 2), tg.zeros(1, 5, 3)), None) is None


def test_rnn_input_dtype_mismatch_is_a_value_error_as_torch():
    from tensorgan.errors import DTypeError
    gru = tg.nn.GRU(2, 3)
    for call in (lambda: gru.check_input(tg.zeros(4, 5, 2, dtype=tg.float64), None),
                 lambda: gru(tg.zeros(4, 5, 2, dtype=tg.float64)),
                 lambda: gru(tg.nn.utils.rnn.pack_sequence([tg.zeros(3, 2, dtype=tg.float64)]))):
        with pytest.raises(ValueError, match="float64") as info:
            call()
        assert isinstance(info.value, DTypeError)


def test_rnn_permute_hidden():
    h = tg.arange(6.0).reshape(1, 2, 3)
    perm = tg.tensor([1, 0])
    gru, lstm = tg.nn.GRU(2, 3), tg.nn.LSTM(2, 3)
    assert gru.permute_hidden(h, None) is h
    np.testing.assert_array_equal(gru.permute_hidden(h, perm).numpy(), h.numpy()[:, ::-1])
    h2, c2 = lstm.permute_hidden((h, -h), perm)
    np.testing.assert_array_equal(c2.numpy(), -h.numpy()[:, ::-1])


def test_custom_rnn_subclass_using_torch_helpers_runs():
    class CheckedGRU(tg.nn.GRU):     # the shape of torch's own GRU.forward
        def forward(self, input, hx=None):
            if hx is None:
                hx = tg.zeros(*self.get_expected_hidden_size(input, None))
            self.check_forward_args(input, hx, None)
            return super().forward(input, self.permute_hidden(hx, None))

    out, h = CheckedGRU(2, 3)(tg.ones(4, 5, 2))
    assert out.shape == (4, 5, 3) and h.shape == (1, 5, 3)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d, F.dropout3d])
@pytest.mark.parametrize("dtype", [tg.int64, tg.bool, tg.uint8])
def test_dropout_of_a_non_float_input(fn, dtype):
    # torch: p in (0, 1) is refused ("result type Float can't be cast to the desired output type
    # Long", a RuntimeError); p = 1 gives zeros of the input's dtype; p = 0 / eval: the input.
    # tensorgan raised NumPy's untyped "Unsupported dtype ... for random" and gave float32 zeros.
    from tensorgan.errors import DTypeError
    x = tg.ones(2, 3, 2, 2, dtype=dtype)
    with pytest.raises(DTypeError, match=fn.__name__ + ".*can't be cast") as info:
        fn(x, 0.5)
    assert isinstance(info.value, RuntimeError)
    zeros = fn(x, 1.0)
    assert zeros.dtype == dtype and not zeros.numpy().any()
    assert fn(x, 0.0) is x and fn(x, 0.5, training=False) is x
    y = tg.ones(2, 3, 2, 2, dtype=dtype)
    assert fn(y, 1.0, inplace=True) is y and y.dtype == dtype and not y.numpy().any()


def test_gumbel_softmax_warns_on_eps_as_torch_and_refuses_integer_logits():
    import warnings
    from tensorgan.errors import DTypeError
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.gumbel_softmax(tg.zeros(4, 3), tau=0.2)       # CTGAN's call: the default eps
    np.testing.assert_allclose(out.sum(-1).numpy(), 1.0, rtol=1e-6)
    with pytest.warns(UserWarning, match="eps") as record:
        F.gumbel_softmax(tg.zeros(()), eps=1e-5)                 # (once, through the 0-d path too)
    assert len(record) == 1
    with pytest.raises(DTypeError, match="floating-point") as info:
        F.gumbel_softmax(tg.zeros(2, 3, dtype=tg.int64))
    assert isinstance(info.value, RuntimeError)


def test_one_hot_of_an_empty_tensor_names_the_problem():
    with pytest.raises(RuntimeError, match="can not infer the total number of classes from an empty"):
        F.one_hot(tg.tensor([], dtype=tg.int64))
    assert F.one_hot(tg.tensor([], dtype=tg.int64), 3).shape == (0, 3)


class _ForeignArray:
    """Another library's tensor as tg.tensor sees a torch one: a ``dtype`` NumPy cannot read
    (torch.float32) and an ``__array__``."""

    class _DType:
        def __repr__(self):
            return "otherlib.float64"

    dtype = _DType()

    def __init__(self, values, fail=None):
        self.values, self.fail = np.asarray(values), fail

    def __array__(self, dtype=None, copy=None):
        if self.fail:
            raise RuntimeError(self.fail)
        return self.values if dtype is None else self.values.astype(dtype)


def test_tensor_from_a_foreign_array_with_an_unreadable_dtype():
    # tg.tensor(torch_tensor) raised NumPy's "Cannot interpret 'torch.float32' as a data type"
    t = tg.tensor(_ForeignArray([1.5, 2.0]))
    assert t.dtype == tg.float64 and t.tolist() == [1.5, 2.0]
    assert tg.tensor(_ForeignArray([1, 2])).dtype == tg.int64
    assert tg.tensor(_ForeignArray([1, 2]), dtype=tg.float32).dtype == tg.float32
    assert tg.as_tensor(_ForeignArray([[True]])).dtype == tg.bool


def test_tensor_from_a_foreign_array_that_cannot_convert_is_typed():
    from tensorgan.errors import InputTypeError
    with pytest.raises(InputTypeError, match="requires grad"):
        tg.tensor(_ForeignArray([1.0], fail="Can't call numpy() on Tensor that requires grad"))

    class NoArray:
        dtype = _ForeignArray._DType()
    with pytest.raises(InputTypeError, match="otherlib.float64"):
        tg.tensor(NoArray())


def test_module_dict_and_parameter_dict_keys_are_dict_views_as_torch():
    # torch returns dict_keys / dict_values / dict_items: `md.keys() - {...}` (set algebra on
    # the names) failed on the lists tensorgan returned
    md = tg.nn.ModuleDict({"a": tg.nn.ReLU(), "b": tg.nn.Tanh()})
    assert md.keys() - {"a"} == {"b"} and md.keys() & {"a", "z"} == {"a"}
    assert [type(m).__name__ for m in md.values()] == ["ReLU", "Tanh"]
    assert dict(md.items())["b"] is md["b"]
    keys = md.keys()
    md["c"] = tg.nn.Sigmoid()
    assert list(keys) == ["a", "b", "c"]              # a live view, as torch's
    md.clear()
    assert len(md) == 0 and list(keys) == []
    pd = tg.nn.ParameterDict({"w": tg.nn.Parameter(tg.ones(1)), "v": tg.nn.Parameter(tg.ones(2))})
    assert pd.keys() - {"w"} == {"v"}
