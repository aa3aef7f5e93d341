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
