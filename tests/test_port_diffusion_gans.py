"""Gaps found porting diffusion GANs (NVlabs/denoising-diffusion-gan: train_ddgan.py's
Diffusion_Coefficients / R1 + lazy regularisation, score_sde's NCSN++ generator with
AdaptiveGroupNorm, the small time-dependent discriminator, upfirdn2d / fused_leaky_relu native
fallbacks and their autograd.Functions, EMA.py; Zhendong-Wang/Diffusion-GAN's adaptive diffusion
augment).  Expected values come from NumPy / first principles."""
import math

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import InputTypeError


# --- torch.nn.init's private helpers, imported by name by model code (dense_layer.py) -----------

def test_private_fan_helpers_are_importable_and_match_torch_formulas():
    from tensorgan.nn.init import _calculate_correct_fan, _calculate_fan_in_and_fan_out
    w = nn.Conv2d(3, 5, kernel_size=(2, 3)).weight           # (5, 3, 2, 3)
    assert _calculate_fan_in_and_fan_out(w) == (3 * 6, 5 * 6)
    assert _calculate_correct_fan(w, "fan_in") == 18
    assert _calculate_correct_fan(w, "FAN_OUT") == 30       # torch lower-cases the mode
    with pytest.raises(ValueError, match="fan_avg"):
        _calculate_correct_fan(w, "fan_avg")


def test_ddgan_variance_scaling_init_through_private_fan_helper():
    """dense_layer.py's kaiming_uniform_: bound sqrt(3 * gain / fan) with the fan from
    _calculate_fan_in_and_fan_out (its 'fan_avg' falls through to fan_out)."""
    from tensorgan.nn.init import _calculate_fan_in_and_fan_out
    lin = nn.Linear(6, 40)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(lin.weight)
    bound = math.sqrt(3.0 * 0.5 / max(1.0, fan_out))
    with tg.no_grad():
        lin.weight.uniform_(-bound, bound)
    w = lin.weight.detach().numpy()
    assert (fan_in, fan_out) == (6, 40)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound


def test_private_no_grad_initializers():
    from tensorgan.nn.init import (_no_grad_fill_, _no_grad_normal_, _no_grad_trunc_normal_,
                                   _no_grad_uniform_, _no_grad_zero_)
    p = nn.Parameter(tg.zeros(2000))
    _no_grad_uniform_(p, -0.5, 0.25)
    a = p.detach().numpy()
    assert a.min() >= -0.5 and a.max() <= 0.25 and p.requires_grad and p.grad_fn is None
    _no_grad_trunc_normal_(p, 0.0, 1.0, -0.1, 0.2)
    a = p.detach().numpy()
    assert a.min() >= -0.1 and a.max() <= 0.2
    _no_grad_normal_(p, 3.0, 0.01)
    assert abs(p.detach().numpy().mean() - 3.0) < 0.01
    _no_grad_fill_(p, 7.0)
    assert (p.detach().numpy() == 7.0).all()
    _no_grad_zero_(p)
    assert (p.detach().numpy() == 0.0).all()


# --- NumPy functions on a tensor give a tensor back (torch's __array_wrap__) ---------------------

def test_numpy_cumprod_of_a_tensor_is_a_tensor_as_ddgan_diffusion_coefficients_uses_it():
    a_s = tg.tensor([0.9, 0.8, 0.5])
    a_s_cum = np.cumprod(a_s.cpu())                 # Diffusion_Coefficients.__init__
    sigmas_cum = np.sqrt(1 - a_s_cum ** 2)
    assert isinstance(a_s_cum, tg.Tensor) and isinstance(sigmas_cum, tg.Tensor)
    a_s_cum = a_s_cum.to("cpu")                     # ... then .to(device) on it
    np.testing.assert_allclose(a_s_cum.numpy(), [0.9, 0.72, 0.36], rtol=1e-6)
    np.testing.assert_allclose(sigmas_cum.numpy(), np.sqrt(1 - np.array([0.9, 0.72, 0.36]) ** 2), rtol=1e-6)
    assert a_s_cum.dtype == tg.float32


def test_numpy_ufunc_results_keep_numpy_dtype_and_bool_becomes_uint8():
    t = tg.tensor([-1.0, 2.0, float("nan")])
    got = np.greater(t, 0.0)
    assert isinstance(got, tg.Tensor) and got.dtype == tg.uint8
    assert got.tolist() == [0, 1, 0]
    assert np.isnan(t).tolist() == [0, 0, 1]
    c = np.cumprod(tg.tensor([1, 2, 3], dtype=tg.int32))   # NumPy widens int32 to int64
    assert isinstance(c, tg.Tensor) and c.dtype == tg.int64 and c.tolist() == [1, 2, 6]
    e = np.exp(tg.tensor(0.0))
    assert isinstance(e, tg.Tensor) and e.shape == () and e.item() == 1.0


def test_numpy_ufunc_on_a_tensor_that_requires_grad_is_still_refused():
    with pytest.raises(RuntimeError):
        np.sqrt(tg.ones(2, requires_grad=True))


# --- axis= / keepdims= (NumPy's names), which torch's argument parser takes -----------------------

def test_var_std_with_numpy_keyword_names_minibatch_stddev():
    x = np.random.RandomState(0).randn(4, 2, 3, 5).astype(np.float32)
    t = tg.tensor(x)
    np.testing.assert_allclose(t.var(axis=0, unbiased=False).numpy(), x.var(axis=0), rtol=1e-5)
    got = t.std(0, unbiased=False, keepdims=True)
    assert got.shape == (1, 2, 3, 5)
    np.testing.assert_allclose(got.numpy(), x.std(axis=0, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(tg.var(t, axis=(1, 2)).numpy(), x.var(axis=(1, 2), ddof=1), rtol=1e-5)
    s, m = tg.std_mean(t, axis=1, keepdims=True)
    np.testing.assert_allclose(s.numpy(), x.std(axis=1, ddof=1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(m.numpy(), x.mean(axis=1, keepdims=True), rtol=1e-5)


def test_reductions_and_scans_take_axis_and_keepdims():
    x = np.arange(1.0, 13.0, dtype=np.float32).reshape(3, 4)
    t = tg.tensor(x)
    assert t.amax(axis=1, keepdims=True).numpy().tolist() == [[4.0], [8.0], [12.0]]
    assert tg.amin(t, axis=0).numpy().tolist() == [1.0, 2.0, 3.0, 4.0]
    values, indices = t.max(axis=1)
    assert values.tolist() == [4.0, 8.0, 12.0] and indices.tolist() == [3, 3, 3]
    assert t.argmin(axis=1, keepdims=True).shape == (3, 1)
    np.testing.assert_allclose(t.prod(axis=1).numpy(), x.prod(axis=1), rtol=1e-6)
    np.testing.assert_allclose(t.cumsum(axis=1).numpy(), x.cumsum(axis=1))
    np.testing.assert_allclose(tg.logsumexp(t, axis=1, keepdims=True).numpy(),
                               np.log(np.exp(x).sum(axis=1, keepdims=True)), rtol=1e-6)
    np.testing.assert_allclose(t.softmax(axis=1).numpy().sum(axis=1), np.ones(3), rtol=1e-6)
    assert (t > 3).all(axis=1).tolist() == [False, True, True]
    assert tg.ones(3, 1).squeeze(axis=1).shape == (3,)
    assert t.unsqueeze(axis=0).shape == (1, 3, 4)
    assert [p.shape for p in t.chunk(2, axis=1)] == [(3, 2), (3, 2)]
    assert tg.gather(t, axis=1, index=tg.tensor([[0], [1], [2]])).flatten().tolist() == [1.0, 6.0, 11.0]



def test_index_scatter_linalg_and_functional_ops_take_axis():
    x = tg.arange(1.0, 13.0).reshape(3, 4)
    index = tg.tensor([[0], [1], [2]])
    got = x.clone().scatter_(axis=1, index=index, value=0.0).numpy()
    want = np.arange(1.0, 13.0).reshape(3, 4)
    want[[0, 1, 2], [0, 1, 2]] = 0
    np.testing.assert_array_equal(got, want)
    assert x.index_fill(axis=1, index=tg.tensor([3]), value=-1.0)[:, 3].tolist() == [-1.0] * 3
    assert x.repeat_interleave(2, axis=0).shape == (6, 4)
    assert tg.take_along_dim(x, index, axis=1).flatten().tolist() == [1.0, 6.0, 11.0]
    np.testing.assert_allclose(tg.linalg.vector_norm(x, axis=1, keepdims=True).numpy(),
                               np.linalg.norm(want * 0 + np.arange(1.0, 13.0).reshape(3, 4), axis=1, keepdims=True),
                               rtol=1e-6)
    a, b = np.arange(1.0, 13.0).reshape(3, 4), np.arange(2.0, 14.0).reshape(3, 4)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(tg.nn.functional.cosine_similarity(x, x + 1, axis=1).numpy(), cos, rtol=1e-6)

def test_axis_and_dim_together_is_a_typed_error_naming_both():
    t = tg.ones(2, 3)
    with pytest.raises(InputTypeError, match="axis= and dim="):
        t.var(axis=0, dim=1)
    with pytest.raises(InputTypeError, match="keepdims= and keepdim="):
        tg.amax(t, 0, keepdims=True, keepdim=False)


def test_axis_alias_keeps_the_graph():
    x = tg.tensor([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], dtype=tg.float64, requires_grad=True)
    x.var(axis=1, unbiased=False).sum().backward()
    # d/dx_i of the population variance is 2 (x_i - mean) / n
    a = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (a - a.mean(axis=1, keepdims=True)) / 3, rtol=1e-12)


# --- optimizer state a wrapper adds (DDGAN's EMA: state[p]["ema"]) survives a checkpoint ----------

@pytest.mark.parametrize("make", [lambda ps: tg.optim.Adam(ps, lr=0.1),
                                  lambda ps: tg.optim.SGD(ps, lr=0.1, momentum=0.9)])
def test_load_state_dict_restores_entries_a_wrapper_put_in_the_state(make):
    p = nn.Parameter(tg.ones(3, dtype=tg.float64))
    opt = make([p])
    p.grad = tg.ones(3, dtype=tg.float64)
    opt.step()
    opt.state[p]["ema"] = p.detach().clone() * 5         # EMA.step's state initialisation
    opt.state[p]["count"] = 7
    saved = opt.state_dict()
    assert "ema" in saved["state"][0]

    q = nn.Parameter(tg.zeros(3, dtype=tg.float64))
    fresh = make([q])
    fresh.load_state_dict(saved)
    assert "ema" in fresh.state[q]                   # EMA.step would otherwise re-seed it from p
    np.testing.assert_allclose(fresh.state[q]["ema"].numpy(), p.detach().numpy() * 5)
    assert fresh.state[q]["count"] == 7
    # a saved float32 entry is cast to the parameter's dtype, as torch's .to(p.dtype)
    saved["state"][0]["ema"] = tg.ones(3, dtype=tg.float32)
    fresh.load_state_dict(saved)
    assert fresh.state[q]["ema"].dtype == tg.float64
    q.grad = tg.ones(3, dtype=tg.float64)
    fresh.step()                                     # the built-in update ignores the extra keys
    assert fresh.state[q]["ema"].tolist() == [1.0, 1.0, 1.0]


# --- torch.finfo / iinfo hold Python numbers (Diffusion-GAN's misc.nan_to_num clamps to them) -----

def test_finfo_values_are_python_floats_and_dtype_a_name():
    f16 = tg.finfo(tg.float16)
    assert type(f16.max) is float and f16.max * 2 == 131008.0      # no float16 overflow to inf
    assert f16.resolution == 0.001 and f16.eps == 2.0 ** -10 and f16.bits == 16
    assert f16.tiny == f16.smallest_normal == 2.0 ** -14
    assert tg.finfo().dtype == "float32" and tg.finfo(tg.float64).max == np.finfo(np.float64).max
    assert tg.finfo(tg.float32) == tg.finfo(tg.float32) and tg.finfo(tg.float32) != tg.finfo(tg.float64)
    assert repr(f16) == ("finfo(resolution=0.001, min=-65504, max=65504, eps=0.000976562, "
                         "smallest_normal=6.10352e-05, tiny=6.10352e-05, dtype=float16)")
    g = tg.tensor([float("nan"), float("inf"), -float("inf"), 1.0])
    out = tg.clamp(g.unsqueeze(0).nansum(0), min=tg.finfo(g.dtype).min, max=tg.finfo(g.dtype).max)
    assert out.tolist() == [0.0, float(np.finfo(np.float32).max), float(np.finfo(np.float32).min), 1.0]


def test_iinfo_values_are_python_ints_and_dtype_a_name():
    i = tg.iinfo(tg.int32)
    assert type(i.max) is int and (i.min, i.max, i.bits, i.dtype) == (-2 ** 31, 2 ** 31 - 1, 32, "int32")
    assert repr(i) == "iinfo(min=-2.14748e+09, max=2.14748e+09, dtype=int32)"
    assert tg.iinfo(tg.uint8) == tg.iinfo(tg.uint8)
