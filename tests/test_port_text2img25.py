"""Session 25: text-to-image GANs (taoxugit/AttnGAN, tobran/DF-GAN) ported at tiny sizes and run
beside torch 2.13 in float64 (losses, gradients and parameters after 3 DAMSM / GAN / MA-GP steps
agreed to 1e-13).  What differed, and is fixed: clip_grad_norm_'s argument conversion (torch takes
``float(norm_type)``: ``'inf'``, NumPy scalars, 0-d tensors; order 0 and negative orders as
``vector_norm``), autograd.grad's FutureWarning for ``only_inputs=False``, and the deprecated
``add(Number, Tensor)`` / ``addcmul(Number, ...)`` warnings pointing inside tensorgan instead of
at the caller's line.  Also two invariants the ports lean on (packed bidirectional LSTM, MA-GP)."""
import math
import sys
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import ConfigError, ConfigTypeError, ShapeError


def _params(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(tg.tensor(np.zeros_like(np.asarray(g, np.float64))))
        p.grad = tg.tensor(np.asarray(g, np.float64))
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type, expected", [
    ("inf", 4.0), ("2", math.sqrt(26.0)), (np.int64(2), math.sqrt(26.0)), (np.float32(1.0), 8.0),
    (tg.tensor(2.0), math.sqrt(26.0)), (-math.inf, 0.0), ("-inf", 0.0)])
def test_clip_grad_norm_takes_what_float_takes(norm_type, expected):
    params = _params([3.0, 0.0, -4.0], [1.0])
    total = nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)
    assert total.item() == pytest.approx(expected, rel=1e-12)
    if expected > 1.0:          # scaled by max_norm / (total + 1e-6)
        np.testing.assert_allclose(params[0].grad.numpy(), np.array([3.0, 0.0, -4.0]) / (expected + 1e-6))


def test_clip_grad_norm_order_zero_and_negative_orders():
    # order 0: nonzero elements per tensor (2 and 1, and 0 for the all-zero one), then the number
    # of nonzero counts: 2 (torch.linalg.vector_norm's ord=0 applied twice)
    assert nn.utils.get_total_norm([t.grad for t in _params([3.0, 0.0, -4.0], [1.0], [0.0])], 0).item() == 2.0
    # order -1 without zeros: (sum |g|^-1)^-1 over all elements (the norm of the per-tensor norms)
    g = [[2.0, 4.0], [4.0]]
    expected = 1.0 / (0.5 + 0.25 + 0.25)
    assert nn.utils.get_total_norm([t.grad for t in _params(*g)], -1).item() == pytest.approx(expected)
    # a zero element makes a negative-order norm 0 (no divide warning), so nothing is clipped
    params = _params([3.0, 0.0], [5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.utils.clip_grad_norm_(params, 1.0, norm_type=-2).item() == 0.0
    np.testing.assert_array_equal(params[0].grad.numpy(), [3.0, 0.0])
    with pytest.raises(ShapeError, match="empty"):          # torch: no identity for the order
        nn.utils.clip_grad_norm_(_params([], [1.0]), 1.0, norm_type=-1)


def test_clip_grad_refusals_are_typed_and_number_types_accepted():
    for bad in ("fro", None, True):
        with pytest.raises(ConfigTypeError, match="norm_type"):     # TypeError and ValueError
            nn.utils.clip_grad_norm_(_params([1.0]), 1.0, norm_type=bad)
    with pytest.raises(ConfigError, match="max_norm must be >= 0"):
        nn.utils.clip_grad_norm_(_params([1.0]), -1.0)
    for max_norm in (np.int64(1), tg.tensor(1.0), "1"):
        params = _params([3.0, 4.0])
        assert nn.utils.clip_grad_norm_(params, max_norm).item() == 5.0
        np.testing.assert_allclose(params[0].grad.numpy(), np.array([3.0, 4.0]) / (5.0 + 1e-6))
    params = _params([3.0, -5.0])
    nn.utils.clip_grad_value_(params, np.int64(4))
    np.testing.assert_array_equal(params[0].grad.numpy(), [3.0, -4.0])


def test_autograd_grad_only_inputs_false_warns_as_torch():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (g,) = tg.autograd.grad((x ** 2).sum(), x, only_inputs=True)
        assert not caught
        (g,) = tg.autograd.grad((x ** 2).sum(), x, only_inputs=False)
        got = tg.autograd.grad((x ** 2).sum(), {"x": x}, only_inputs=False)
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(got["x"].numpy(), [2.0, 4.0])
    assert [w.category for w in caught] == [FutureWarning, FutureWarning]     # one per call
    assert all("only_inputs argument is deprecated" in str(w.message) for w in caught)
    assert all(w.filename == __file__ for w in caught)


def test_deprecated_overload_warnings_point_at_the_callers_line(monkeypatch):
    once = sys.modules["tensorgan.tensor"]._ONCE_WARNED      # (torch warns once a program:
    monkeypatch.setattr(sys.modules["tensorgan.tensor"], "_ONCE_WARNED", dict(once))  # reset per call)
    a, b = tg.ones(3), tg.tensor([1.0, 2.0, 3.0])
    calls = [lambda: a.add(0.001, b), lambda: tg.add(a, 2, b), lambda: a.clone().sub_(2, b),
             lambda: a.clone().add_(0.001, b), lambda: a.clone().addcmul_(0.5, b, b),
             lambda: tg.addcdiv(a, 0.5, b, b), lambda: a.addcmul(0.5, b, b)]
    for call in calls:
        sys.modules["tensorgan.tensor"]._ONCE_WARNED.pop("deprecated_overload", None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert len(caught) == 1 and "deprecated" in str(caught[0].message)
        assert caught[0].filename == __file__, caught[0].filename
    sys.modules["tensorgan.tensor"]._ONCE_WARNED.pop("deprecated_overload", None)
    with pytest.warns(UserWarning, match="deprecated"):
        np.testing.assert_allclose(tg.add(a, 2, b).numpy(), [3.0, 5.0, 7.0])


def test_packed_bidirectional_lstm_matches_each_caption_alone():
    """AttnGAN's RNN_ENCODER: pack_padded_sequence -> bidirectional LSTM -> pad_packed_sequence;
    the sentence code h_n (both directions) and the word codes equal running each caption
    unpadded on its own, and the padded steps are zeros."""
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 2, 1, batch_first=True, bidirectional=True).double()
    x = tg.tensor(np.random.RandomState(0).standard_normal((3, 4, 3)))
    lens = [4, 3, 1]
    packed = nn.utils.rnn.pack_padded_sequence(x, lens, batch_first=True)
    out, (h, _) = lstm(packed)
    out = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)[0]
    for i, n in enumerate(lens):
        alone, (h1, _) = lstm(x[i:i + 1, :n])
        np.testing.assert_allclose(out[i, :n].detach().numpy(), alone[0].detach().numpy(), atol=1e-14)
        np.testing.assert_array_equal(out[i, n:].detach().numpy(), 0.0)
        np.testing.assert_allclose(h[:, i].detach().numpy(), h1[:, 0].detach().numpy(), atol=1e-14)


def test_ma_gp_second_order_gradient_matches_finite_differences():
    """DF-GAN's MA-GP: 2 * mean(||(d out / d img, d out / d sent)||^6) through
    autograd.grad(create_graph=True) on two inputs; its gradient in a weight against central
    differences (float64)."""
    rng = np.random.RandomState(0)
    w = nn.Parameter(tg.tensor(rng.standard_normal((5, 4)) * 0.5))
    img = tg.tensor(rng.standard_normal((3, 4))).requires_grad_()
    sent = tg.tensor(rng.standard_normal((3, 5))).requires_grad_()

    def magp(weight):
        out = (tg.tanh(img @ weight.t()) * sent).sum(1)
        g0, g1 = tg.autograd.grad(out, (img, sent), grad_outputs=tg.ones(out.size()),
                                  retain_graph=True, create_graph=True, only_inputs=True)
        grad = tg.cat((g0.view(3, -1), g1.view(3, -1)), dim=1)
        return 2.0 * tg.mean(tg.sqrt(tg.sum(grad ** 2, dim=1)) ** 6)

    magp(w).backward()
    base = w.detach().numpy()
    numeric = np.zeros_like(base)
    for idx in np.ndindex(*base.shape):
        step = np.zeros_like(base)
        step[idx] = 1e-6
        numeric[idx] = (magp(tg.tensor(base + step)).item() - magp(tg.tensor(base - step)).item()) / 2e-6
    np.testing.assert_allclose(w.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)
