"""Session 26's text-GAN and VITS ports beside torch 2.13 (TextGAN-PyTorch's RelGAN and LeakGAN, a
MaskGAN-style actor-critic, jaywalnut310/vits' posterior encoder, coupling flow, stochastic duration
predictor, monotonic alignment search and multi-period discriminator; float64, a few steps, same
weights -- the ports themselves are not kept). They agreed with torch to 1e-13; these tests pin the
less common paths they lean on, against NumPy and finite differences."""
import itertools
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import DTypeError, IndexOutOfRangeError
from tensorgan.nn import functional as F

RS = np.random.RandomState


def test_one_hot_negative_class_is_an_index_error_as_torchs_runtime_error():
    with pytest.raises(IndexOutOfRangeError, match="non-negative") as caught:
        F.one_hot(tg.tensor([-1, 0]), 3)
    assert isinstance(caught.value, RuntimeError) and not isinstance(caught.value, TypeError)
    with pytest.raises(DTypeError):                  # float indices stay a dtype error, as torch's
        F.one_hot(tg.tensor([1.0, 2.0]), 3)
    np.testing.assert_array_equal(F.one_hot(tg.tensor([2, 0]), 3).numpy(), [[0, 0, 1], [1, 0, 0]])


def _rmc_attention(memory, qkv_w, qkv_b, heads, key_size):
    """RelGAN's relational-memory multi-head attention: LayerNorm over (slots, features), heads by
    view/permute, q/k/v by split."""
    b, n = memory.shape[:2]
    qkv = F.layer_norm(F.linear(memory, qkv_w, qkv_b), (n, qkv_w.shape[0]))
    q, k, v = tg.split(qkv.view(b, n, heads, 3 * key_size).permute(0, 2, 1, 3), [key_size] * 3, -1)
    w = F.softmax(tg.matmul(q * key_size ** -0.5, k.permute(0, 1, 3, 2)), dim=-1)
    out = tg.matmul(w, v).permute(0, 2, 1, 3).contiguous()
    return out.view(out.shape[0], out.shape[1], -1)


def _rmc_attention_numpy(memory, qkv_w, qkv_b, heads, key_size):
    qkv = memory @ qkv_w.T + qkv_b
    mu = qkv.mean(axis=(1, 2), keepdims=True)
    qkv = (qkv - mu) / np.sqrt(qkv.var(axis=(1, 2), keepdims=True) + 1e-5)
    b, n = memory.shape[:2]
    qkv = qkv.reshape(b, n, heads, 3 * key_size).transpose(0, 2, 1, 3)
    q, k, v = np.split(qkv, 3, axis=-1)
    s = q * key_size ** -0.5 @ k.transpose(0, 1, 3, 2)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return (w @ v).transpose(0, 2, 1, 3).reshape(b, n, -1)


def test_relational_memory_attention_matches_numpy_and_gradchecks():
    rs = RS(0)
    heads, key_size, slots = 2, 3, 2
    mem = rs.randn(2, slots, heads * key_size)
    w, b = rs.randn(3 * key_size * heads, heads * key_size) * 0.5, rs.randn(3 * key_size * heads) * 0.1
    got = _rmc_attention(tg.tensor(mem), tg.tensor(w), tg.tensor(b), heads, key_size)
    np.testing.assert_allclose(got.numpy(), _rmc_attention_numpy(mem, w, b, heads, key_size), atol=1e-12)
    args = [tg.tensor(a, requires_grad=True) for a in (mem, w, b)]
    assert tg.autograd.gradcheck(lambda m, w_, b_: _rmc_attention(m, w_, b_, heads, key_size), args)


def test_float32_gate_bias_in_a_float64_memory_keeps_float64_and_a_float32_gradient():
    # RelationalMemory's forget/input biases are float32 Parameters even in a float64 model
    bias = nn.Parameter(tg.tensor(1.0, dtype=tg.float32))
    gates = tg.tensor(RS(1).randn(2, 3), requires_grad=True)
    out = tg.sigmoid(gates + bias)
    assert out.dtype == tg.float64
    out.sum().backward()
    s = 1 / (1 + np.exp(-(gates.detach().numpy() + 1.0)))
    assert bias.grad.dtype == tg.float32
    np.testing.assert_allclose(bias.grad.item(), (s * (1 - s)).sum(), rtol=1e-6)


def test_self_overlapping_slice_assignment_as_leakgans_worker_reward():
    # feature_array[:, i*s:(i+1)*s] = feature_array[:, i*s].unsqueeze(1).expand(-1, s, -1): the source
    # row lies inside the destination; values as NumPy's, gradients routed to the source rows only
    step, length = 4, 8
    x = tg.tensor(RS(2).randn(2, length + 1, 3), requires_grad=True)
    fa = x * 1
    for i in range(length // step):
        fa[:, i * step:(i + 1) * step, :] = fa[:, i * step, :].unsqueeze(1).expand((-1, step, -1))
    expected = x.detach().numpy().copy()
    for i in range(length // step):
        expected[:, i * step:(i + 1) * step] = expected[:, i * step:i * step + 1]
    np.testing.assert_array_equal(fa.detach().numpy(), expected)
    weight = RS(3).randn(*fa.shape)
    (fa * tg.tensor(weight)).sum().backward()
    grad = np.zeros_like(weight)
    for i in range(length // step):
        grad[:, i * step] = weight[:, i * step:(i + 1) * step].sum(1)
    grad[:, length] = weight[:, length]
    np.testing.assert_allclose(x.grad.numpy(), grad, atol=1e-12)


def test_retained_graph_refused_after_an_optimizer_step_changed_its_weights():
    # LeakGAN's optimize_multi: manager step, then the worker loss's backward through the retained
    # graph that saved the manager's weights -- torch refuses it (modified by an inplace operation)
    lin = nn.Linear(3, 2).double()
    opt = tg.optim.SGD(lin.parameters(), lr=0.1)
    x = tg.tensor(RS(4).randn(4, 3), requires_grad=True)
    h = tg.tanh(lin(x))
    loss_a, loss_b = h.sum(), (h ** 2).sum()
    loss_a.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError):
        loss_b.backward()


def test_masked_pair_assignment_as_the_rational_quadratic_spline():
    # outputs[mask], logabsdet[mask] = f(inputs[mask]); outputs[~mask] = inputs[~mask]
    inputs = tg.tensor(np.array([-6.0, -1.0, 0.5, 7.0, 2.0]), requires_grad=True)
    inside = (inputs >= -5) & (inputs <= 5)
    outputs, logabsdet = tg.zeros_like(inputs), tg.zeros_like(inputs)
    outputs[~inside] = inputs[~inside]
    logabsdet[~inside] = 0
    outputs[inside], logabsdet[inside] = inputs[inside] ** 3, tg.log(3 * inputs[inside] ** 2)
    x = inputs.detach().numpy()
    keep = (x >= -5) & (x <= 5)
    np.testing.assert_allclose(outputs.detach().numpy(), np.where(keep, x ** 3, x))
    (outputs.sum() + logabsdet.sum()).backward()
    np.testing.assert_allclose(inputs.grad.numpy(), np.where(keep, 3 * x ** 2 + 2 / x, 1.0), atol=1e-12)


def _relative_to_absolute(x):
    batch, heads, length, _ = x.size()
    x = F.pad(x, [0, 1, 0, 0, 0, 0, 0, 0])
    x_flat = F.pad(x.view([batch, heads, length * 2 * length]), [0, length - 1, 0, 0, 0, 0])
    return x_flat.view([batch, heads, length + 1, 2 * length - 1])[:, :, :length, length - 1:]


def test_relative_attention_sizes_given_as_0d_tensors_as_vits():
    # VITS's attention: b = torch.tensor(key.size(0)) ... view(b, h, k, t), clamp_min of a 0-d
    # length, F.pad and slices with 0-d tensor bounds
    rs = RS(5)
    key = tg.tensor(rs.randn(2, 4, 3), requires_grad=True)
    b, t_s = tg.tensor(key.size(0)), tg.tensor(key.size(2))
    heads = key.view(b, 2, 2, t_s).transpose(2, 3)
    assert heads.shape == (2, 2, 3, 2)
    window = 2
    emb = tg.tensor(rs.randn(1, 2 * window + 1, 2), requires_grad=True)
    pad_length = tg.clamp_min(t_s - (window + 1), 0)
    start = tg.clamp_min((window + 1) - t_s, 0)
    used = F.pad(emb, [0, 0, pad_length, pad_length, 0, 0])[:, start:start + 2 * t_s - 1]
    np.testing.assert_array_equal(used.detach().numpy(), emb.detach().numpy()[:, 0:5])
    rel = tg.matmul(heads, used.unsqueeze(0).transpose(-2, -1))          # (b, h, t, 2t-1)
    absolute = _relative_to_absolute(rel)
    r = rel.detach().numpy()
    expected = np.stack([r[:, :, i, 2 - i:5 - i] for i in range(3)], axis=2)  # column j: offset j - i
    np.testing.assert_allclose(absolute.detach().numpy(), expected, atol=1e-13)
    absolute.sum().backward()
    assert key.grad.shape == key.shape and emb.grad.shape == emb.shape


def _coupling(x, mask, pre, post, reverse=False):
    """VITS's ResidualCouplingLayer with a 1x1-conv 'WN' stand-in: x1 -> m + x1 * exp(logs)."""
    x0, x1 = tg.split(x, [1, 1], 1)
    m, logs = tg.split(post(tg.tanh(pre(x0))) * mask, [1, 1], 1)
    if reverse:
        return tg.cat([x0, (x1 - m) * tg.exp(-logs) * mask], 1)
    return tg.cat([x0, m + x1 * tg.exp(logs) * mask], 1), tg.sum(logs, [1, 2])


def test_residual_coupling_logdet_is_the_jacobians_and_reverse_inverts():
    tg.manual_seed(0)
    pre, post = nn.Conv1d(1, 4, 1).double(), nn.Conv1d(4, 2, 1).double()
    x = tg.tensor(RS(6).randn(1, 2, 3))
    mask = tg.ones(1, 1, 3, dtype=tg.float64)
    y, logdet = _coupling(x, mask, pre, post)
    flipped = tg.flip(y, [1])                        # VITS's Flip: log-det 0, its own inverse
    back = _coupling(tg.flip(flipped, [1]), mask, pre, post, reverse=True)
    np.testing.assert_allclose(back.detach().numpy(), x.numpy(), atol=1e-13)
    jac = tg.autograd.functional.jacobian(lambda v: _coupling(v.view(1, 2, 3), mask, pre, post)[0].reshape(-1),
                                          x.reshape(-1))
    np.testing.assert_allclose(logdet.item(), np.linalg.slogdet(jac.numpy())[1], atol=1e-12)


def _maximum_path_each(path, value, t_y, t_x, max_neg_val=-1e9):
    """VITS's monotonic alignment search (its Cython core, in NumPy)."""
    index = t_x - 1
    for y in range(t_y):
        for x in range(max(0, t_x + y - t_y), min(t_x, y + 1)):
            v_cur = max_neg_val if x == y else value[y - 1, x]
            v_prev = (0. if y == 0 else max_neg_val) if x == 0 else value[y - 1, x - 1]
            value[y, x] += max(v_prev, v_cur)
    for y in range(t_y - 1, -1, -1):
        path[y, index] = 1
        if index != 0 and (index == y or value[y - 1, index] < value[y - 1, index - 1]):
            index = index - 1


def test_monotonic_alignment_search_on_tensor_data_finds_the_best_monotonic_path():
    neg_cent = tg.tensor(RS(7).randn(1, 6, 3))      # [b, t_y, t_x]
    mask = tg.ones(1, 6, 3)
    value = neg_cent.data.cpu().numpy().astype(np.float32)
    path = np.zeros(value.shape, dtype=np.int32)
    t_y, t_x = int(mask.sum(1)[:, 0].item()), int(mask.sum(2)[:, 0].item())
    _maximum_path_each(path[0], value[0], t_y, t_x)
    attn = tg.from_numpy(path).to(device=neg_cent.device, dtype=neg_cent.dtype)
    scores = neg_cent.numpy()[0]
    best = max((sum(scores[y, sum(steps[:y])] for y in range(t_y)), steps)   # steps: where x advances
               for steps in ([0] + list(s) for s in itertools.product([0, 1], repeat=t_y - 1))
               if sum(steps) == t_x - 1)
    expected = np.zeros((t_y, t_x))
    for y in range(t_y):
        expected[y, sum(best[1][:y + 1])] = 1
    np.testing.assert_array_equal(attn.numpy()[0], expected)
    assert attn.dtype == tg.float64 and attn.sum(2).numpy().tolist() == [[1.0] * t_y]


def test_period_discriminator_reflect_pad_and_fold_as_numpy():
    # DiscriminatorP: reflect-pad t up to a multiple of the period, then view as (b, c, t/p, p)
    x = tg.tensor(RS(8).randn(2, 1, 7), requires_grad=True)
    period = 3
    padded = F.pad(x, (0, period - 7 % period), "reflect")
    folded = padded.view(2, 1, padded.shape[-1] // period, period)
    ref = np.pad(x.detach().numpy(), ((0, 0), (0, 0), (0, 2)), mode="reflect").reshape(2, 1, 3, 3)
    np.testing.assert_array_equal(folded.detach().numpy(), ref)
    folded.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [1, 1, 1, 1, 2, 2, 1])


def test_vits_kl_loss_and_fused_gate_with_an_int_tensor_channel_count():
    rs = RS(9)
    z_p, logs_q, m_p, logs_p = (tg.tensor(rs.randn(2, 3, 4)) for _ in range(4))
    mask = tg.tensor((np.arange(4) < np.array([[4], [2]]))[:, None].astype(np.float64))
    kl = logs_p - logs_q - 0.5
    kl += 0.5 * ((z_p - m_p) ** 2) * tg.exp(-2. * logs_p)
    loss = tg.sum(kl * mask) / tg.sum(mask)
    zp, lq, mp, lp, mk = (v.numpy() for v in (z_p, logs_q, m_p, logs_p, mask))
    ref = ((lp - lq - 0.5 + 0.5 * (zp - mp) ** 2 * np.exp(-2 * lp)) * mk).sum() / mk.sum()
    np.testing.assert_allclose(loss.item(), ref, rtol=1e-13)
    n_channels = tg.IntTensor([2])                  # commons.fused_add_tanh_sigmoid_multiply
    fused = tg.jit.script(lambda a_, b_, n: tg.tanh((a_ + b_)[:, :n[0], :]) * tg.sigmoid((a_ + b_)[:, n[0]:, :]))
    acts = fused(z_p[:, :2].repeat(1, 2, 1), tg.zeros(2, 4, 4, dtype=tg.float64), n_channels)
    h = zp[:, :2]
    np.testing.assert_allclose(acts.numpy(), np.tanh(h) / (1 + np.exp(-h)), atol=1e-14)


def test_categorical_log_prob_of_filled_tokens_is_the_log_softmax_entry():
    # MaskGAN's actor: tokens where masked come from the policy, elsewhere the real ones
    rs = RS(10)
    logits = tg.tensor(rs.randn(3, 5), requires_grad=True)
    weight = tg.tensor([1.0, 0.0, 1.0])
    drawn, real = tg.tensor([4, 1, 0]), tg.tensor([2, 3, 1])
    tok = tg.where(weight.bool(), drawn, real)
    lp = tg.distributions.Categorical(logits=logits).log_prob(tok)
    ls = logits.detach().numpy() - np.log(np.exp(logits.detach().numpy()).sum(1, keepdims=True))
    np.testing.assert_allclose(lp.detach().numpy(), ls[[0, 1, 2], [4, 3, 0]], atol=1e-13)
    (lp * weight).sum().backward()
    p = np.exp(ls)
    expected = -p * np.array([[1.0], [0.0], [1.0]])
    expected[0, 4] += 1
    expected[2, 0] += 1
    np.testing.assert_allclose(logits.grad.numpy(), expected, atol=1e-13)


def test_gumbel_max_sample_and_temperature_softmax_as_relgan():
    rs = RS(11)
    o_t = tg.tensor(rs.randn(4, 6), requires_grad=True)
    u = tg.tensor(rs.rand(4, 6))
    gumbel_t = tg.add(o_t, -tg.log(-tg.log(u + 1e-10) + 1e-10))
    next_token = tg.argmax(gumbel_t, dim=1).detach()
    temperature = 100 ** (3 / 5000)                  # get_fixed_temperature(100, 3, 5000, 'exp')
    pred = F.softmax(gumbel_t * temperature, dim=-1)
    g = o_t.detach().numpy() - np.log(-np.log(u.numpy() + 1e-10) + 1e-10)
    np.testing.assert_array_equal(next_token.numpy(), g.argmax(1))
    e = np.exp(temperature * (g - g.max(1, keepdims=True)))
    np.testing.assert_allclose(pred.detach().numpy(), e / e.sum(1, keepdims=True), atol=1e-14)
    onehot = F.one_hot(next_token, 6).to(tg.float64)
    tg.sum(onehot * pred, dim=1).sum().backward()
    assert np.isfinite(o_t.grad.numpy()).all() and math.isclose(o_t.grad.numpy().sum(), 0.0, abs_tol=1e-13)
