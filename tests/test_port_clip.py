"""Gaps found porting openai/CLIP (clip/model.py) and a CLIP-guided latent optimisation onto
tensorgan: AttentionPool2d's functional attention with an output projection of another width,
and the float16 model of ``convert_weights`` (half activations through float32 norms)."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import DTypeError


def _np_attention_pool(x, wq, wk, wv, bq, bk, bv, wo, bo, heads):
    """(L, N, E) self-attention with separate projections, output (L, N, out) -- in float64."""
    length, batch, e = x.shape
    d = e // heads
    q = (x @ wq.T + bq).reshape(length, batch * heads, d).transpose(1, 0, 2)
    k = (x @ wk.T + bk).reshape(length, batch * heads, d).transpose(1, 0, 2)
    v = (x @ wv.T + bv).reshape(length, batch * heads, d).transpose(1, 0, 2)
    s = q @ k.transpose(0, 2, 1) / np.sqrt(d)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    o = (w @ v).transpose(1, 0, 2).reshape(length, batch, e)
    return o @ wo.T + bo, w.reshape(batch, heads, length, length).mean(1)


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_forward_output_projection_of_another_width(need_weights):
    # CLIP's AttentionPool2d: c_proj maps embed_dim 8 -> output_dim 3 through out_proj_weight
    rs = np.random.RandomState(0)
    e, out, heads, length, batch = 8, 3, 2, 5, 4
    arrs = [rs.randn(length, batch, e)] + [rs.randn(e, e) / 3 for _ in range(3)] + \
        [rs.randn(e) for _ in range(3)] + [rs.randn(out, e), rs.randn(out)]
    x, wq, wk, wv, bq, bk, bv, wo, bo = [tg.tensor(a, requires_grad=True) for a in arrs]
    y, w = F.multi_head_attention_forward(
        x, x, x, e, heads, None, tg.cat([bq, bk, bv]), None, None, False, 0.0, wo, bo,
        training=False, need_weights=need_weights, use_separate_proj_weight=True,
        q_proj_weight=wq, k_proj_weight=wk, v_proj_weight=wv)
    want_y, want_w = _np_attention_pool(*arrs, heads)
    assert y.shape == (length, batch, out)
    np.testing.assert_allclose(y.detach().numpy(), want_y, rtol=1e-10, atol=1e-12)
    if need_weights:
        np.testing.assert_allclose(w.detach().numpy(), want_w, rtol=1e-10, atol=1e-12)
    else:
        assert w is None
    y[0].sum().backward()
    assert wo.grad.shape == (out, e) and x.grad.shape == (length, batch, e)
    # the gradient of the first position's sum w.r.t. the output bias: one per batch row
    np.testing.assert_allclose(bo.grad.numpy(), np.full(out, batch))


def _half_norms():
    return [nn.BatchNorm2d(4), nn.LayerNorm([3, 3]), nn.GroupNorm(2, 4),
            nn.InstanceNorm2d(4, affine=True)]


@pytest.mark.parametrize("index", range(4))
@pytest.mark.parametrize("train", [True, False])
def test_norm_modules_take_float16_input_with_float32_weights(index, train):
    # torch's CPU mixed-dtype norms: computed in float32, returned in float16; the weights'
    # gradients stay float32, the input's is float16 (convert_weights leaves CLIP's norms float32)
    rs = np.random.RandomState(1)
    x32 = rs.randn(2, 4, 3, 3).astype(np.float32)
    mod, ref = _half_norms()[index], _half_norms()[index]
    with tg.no_grad():
        mod.weight.copy_(tg.tensor(rs.rand(*mod.weight.shape).astype(np.float32) + 0.5))
        mod.bias.copy_(tg.tensor(rs.randn(*mod.bias.shape).astype(np.float32)))
    ref.load_state_dict(mod.state_dict())
    mod.train(train), ref.train(train)
    xh = tg.tensor(x32.astype(np.float16), requires_grad=True)
    y = mod(xh)
    assert y.dtype == tg.float16
    want = ref(tg.tensor(x32.astype(np.float16).astype(np.float32)))
    np.testing.assert_array_equal(y.detach().numpy(), want.detach().numpy().astype(np.float16))
    y.float().sum().backward()
    assert xh.grad.dtype == tg.float16 and mod.weight.grad.dtype == tg.float32
    if isinstance(mod, nn.BatchNorm2d):
        assert mod.running_mean.dtype == tg.float32
        np.testing.assert_allclose(mod.running_mean.numpy(), ref.running_mean.numpy())
        if train:
            assert np.abs(mod.running_mean.numpy()).max() > 0


def test_batch_norm_leaky_relu_sequential_float16_input():
    # Sequential fuses BatchNorm + LeakyReLU: the half input goes the same float32 way
    seq = nn.Sequential(nn.BatchNorm2d(4), nn.LeakyReLU(0.2))
    x = tg.tensor(np.random.RandomState(2).randn(2, 4, 3, 3).astype(np.float16))
    y = seq(x)
    assert y.dtype == tg.float16
    want = F.leaky_relu(F.batch_norm(x.float(), None, None, training=True), 0.2).half()
    np.testing.assert_array_equal(y.detach().numpy(), want.numpy())


def test_mixed_norm_dtypes_torch_refuses_stay_refused():
    x = tg.randn(2, 4, 3, 3).half()
    with pytest.raises(DTypeError):   # half statistics beside a float32 weight
        F.batch_norm(x, tg.zeros(4).half(), tg.ones(4).half(), tg.ones(4))
    with pytest.raises(DTypeError):   # float32 input, float64 weight: no mixed path
        F.layer_norm(x.float(), (3, 3), tg.ones(3, 3, dtype=tg.float64))
    with pytest.raises(DTypeError):   # a Linear does not take half input beside float32 weights
        nn.Linear(3, 2)(x)


def test_rms_norm_float16_default_eps_is_float32s():
    # torch computes a half rms_norm in float32 with float32's epsilon: 0.03 / rms(0.03) = 1
    x = tg.full((1, 4), 0.03).half()
    for y in (F.rms_norm(x, (4,)), F.rms_norm(x, (4,), tg.ones(4)), nn.RMSNorm(4)(x)):
        assert y.dtype == tg.float16
        np.testing.assert_allclose(y.float().numpy(), 1.0, atol=1e-3)


def test_float16_var_std_norm_round_once_from_float32():
    # CLIP's fp16 features go through .norm(dim=-1, keepdim=True): torch computes half var / std /
    # norm in float32 and rounds the result once; composing them of half ops rounded each step
    # and came out an ulp off (0.97802734375 for this var, 121.1875 for this norm)
    a = np.random.RandomState(0).randn(3, 5000).astype(np.float16)
    a32 = a.astype(np.float32)
    t = tg.tensor(a, requires_grad=True)
    assert t.var().item() == np.float16(a32.var(ddof=1)) == np.float16(0.978515625)
    assert t.norm().item() == np.float16(np.sqrt((a32.astype(np.float64) ** 2).sum())) == 121.125
    np.testing.assert_array_equal(t.std(dim=1).detach().numpy(), a32.std(axis=1, ddof=1).astype(np.float16))
    np.testing.assert_array_equal(t.var(1, unbiased=False).detach().numpy(), a32.var(axis=1).astype(np.float16))
    np.testing.assert_array_equal(t.norm(dim=1, keepdim=True).detach().numpy(),
                                  np.linalg.norm(a32, axis=1, keepdims=True).astype(np.float16))
    for y in (t.var(), t.std(), t.norm(), t.norm(3.0)):
        assert y.dtype == tg.float16
    t.norm(dim=1).sum().backward()
    assert t.grad.dtype == tg.float16
    want = a32 / np.linalg.norm(a32, axis=1, keepdims=True)
    np.testing.assert_allclose(t.grad.numpy().astype(np.float32), want, atol=2e-3)
