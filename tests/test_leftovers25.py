"""Session-25 leftovers, each checked against torch 2.13 first: NumPy scalar / array operands,
RNN / GRU positional arguments in torch's order, the partial-overlap check of in-place and
``out=`` writes, and resuming from a torch-layout optimizer state saved with tg.save."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError, MemoryOverlapError


# -- NumPy scalars and arrays as operands ------------------------------------------------------
@pytest.mark.parametrize("dtype", [tg.float32, tg.float16])
def test_numpy_scalars_act_as_python_numbers(dtype):
    t = tg.ones(3, dtype=dtype)
    for r in (t * np.float64(2), np.float32(2) * t, t + np.int64(3), t / np.int64(2),
              t.clamp(np.float64(0)), t.clamp(np.float32(0.5), np.float64(2)),
              t.clone().clamp_(np.float64(0), np.float64(0.5))):
        assert r.dtype == dtype      # torch: a NumPy scalar is a Python scalar (weak) operand
    assert (t.clamp(np.float64(2)).numpy() == 2).all()


def test_numpy_scalar_bounds_of_an_integer_clamp():
    i = tg.tensor([0, 1, 5], dtype=tg.int32)
    assert i.clamp(np.int64(1), np.int64(3)).dtype == tg.int32
    out = i.clamp(np.float64(0.5))
    assert out.dtype == tg.float32 and out.tolist() == [0.5, 1.0, 5.0]


def test_complex_numpy_operand_gives_a_complex_result_not_a_truncated_one():
    """(complex tensors since session 25: the dtypes torch 2.13 gives, not the real part)"""
    t = tg.ones(3)
    for op, dtype in ((lambda: t * np.complex128(1j), tg.complex64),
                      (lambda: t + np.array([1j, 2, 3]), tg.complex128),
                      (lambda: t * 1j, tg.complex64)):
        out = op()
        assert out.dtype == dtype and out.imag.abs().sum().item() > 0


def test_bool_tensor_with_numpy_array_takes_the_arrays_dtype():
    mask = tg.tensor([True, False])
    r = mask * np.array(3)                  # torch (NumPy's promotion): int64
    assert r.dtype == tg.int64 and r.tolist() == [3, 0]
    r = mask + np.array([2.0])
    assert r.dtype == tg.float64 and r.tolist() == [3.0, 2.0]
    r = mask * np.array([True, True])
    assert r.dtype == tg.bool and r.tolist() == [True, False]


# -- RNN / GRU: torch's positional order -------------------------------------------------------
def test_gru_rnn_take_torchs_positional_order_with_proj_size_slot():
    # torch's RNN / GRU hand their positional arguments to RNNBase: ..., bidirectional,
    # proj_size, device, dtype
    g = tg.nn.GRU(3, 4, 2, True, True, 0.0, False, 0, None, tg.float64)
    assert g.weight_ih_l0.dtype == tg.float64 and g.batch_first and g.num_layers == 2
    r = tg.nn.RNN(3, 4, 2, "relu", True, True, 0.0, False, 0, None, tg.float64)
    assert r.weight_hh_l1.dtype == tg.float64 and r.nonlinearity == "relu"
    # the documented order (device, dtype after bidirectional) still works
    g = tg.nn.GRU(3, 4, 1, True, False, 0.0, False, "cpu", tg.float64)
    assert g.weight_ih_l0.dtype == tg.float64
    assert tg.nn.GRU(3, 4, dtype=tg.float64).weight_hh_l0.dtype == tg.float64
    y, h = g(tg.ones(2, 5, 3, dtype=tg.float64))
    assert y.shape == (2, 5, 4) and h.shape == (1, 5, 4)


def test_gru_rnn_positional_errors():
    with pytest.raises(ConfigError, match="only supported for LSTM"):
        tg.nn.GRU(3, 4, 1, True, False, 0.0, False, 2)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        tg.nn.RNN(3, 4, 1, "tanh", True, False, 0.0, False, 1)
    with pytest.raises(TypeError, match="too many positional"):
        tg.nn.GRU(3, 4, 1, True, False, 0.0, False, 0, None, tg.float64, 5)
    with pytest.raises(TypeError, match="multiple values for argument 'device'"):
        tg.nn.GRU(3, 4, 1, True, False, 0.0, False, "cpu", device="cpu")


# -- in-place / out= writes over part of an operand ---------------------------------------------
@pytest.mark.parametrize("write", [
    lambda x: x[1:].add_(x[:-1]),
    lambda x: x[:-1].mul_(x[1:]),
    lambda x: x[1:].copy_(x[:-1]),
    lambda x: x.add_(x[0]),
    lambda x: x.view(2, 2).t().add_(x.view(2, 2)),     # same block, other strides
    lambda x: x[1:].addcmul_(x[:-1], x[:-1]),
    lambda x: x[1:].lerp_(x[:-1], 0.5),
    lambda x: x.__setitem__(slice(1, 4), x[:3]),
    lambda x: x.__setitem__(tg.tensor([2, 3]), x[:2]),   # an advanced key: the whole x (index_put_)
    lambda x: x.__setitem__(x > 1, x[:2]),
    lambda x: tg.add(x[1:], x[:-1], out=x[:-1]),
    lambda x: tg.neg(x[:3], out=x[1:]),
    lambda x: tg.pow(x[:3], 2, out=x[1:]),
])
def test_partial_overlap_is_refused_as_torch(write):
    x = tg.arange(4.0)
    with pytest.raises(MemoryOverlapError, match="some elements of the input tensor"):
        write(x)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]      # nothing written
    y = tg.arange(4.0).requires_grad_() * 1       # graph mode too
    with pytest.raises(RuntimeError):
        write(y)


def test_full_or_untestable_overlap_is_allowed_as_torch():
    x = tg.arange(4.0)
    assert x.add_(x).tolist() == [0.0, 2.0, 4.0, 6.0]         # the very memory
    x = tg.arange(4.0)
    assert tg.mul(x, 2, out=x).tolist() == [0.0, 2.0, 4.0, 6.0]
    x = tg.arange(4.0)
    x[::2].add_(x[1::2])                                       # interleaved: no element shared
    assert x.tolist() == [1.0, 1.0, 5.0, 3.0]
    x = tg.arange(8.0)
    tg.sum(x.view(2, 4), 0, out=x[4:])                         # reductions: torch does not check
    x = tg.arange(4.0)
    x[1:].add_(x[:-1].clone())                                 # a copy
    assert x.tolist() == [0.0, 1.0, 3.0, 5.0]
    w = tg.arange(6.0).view(2, 3)
    w[1] += w[0]                    # writes the view w[1] over itself (torch's copy_ into w[1])
    assert w.view(-1).tolist() == [0.0, 1.0, 2.0, 3.0, 5.0, 7.0]
    x = tg.arange(6.0)
    x[1:3] = x[3:5]                 # a basic key: only x[1:3] is written
    assert x.tolist() == [0.0, 3.0, 4.0, 3.0, 4.0, 5.0]


# -- a torch-layout optimizer state through tg.save / tg.load -----------------------------------
def test_torch_layout_optimizer_state_resumes_through_save(tmp_path):
    def model():
        tg.manual_seed(0)
        return tg.nn.Linear(3, 2)
    x = tg.randn(5, 3, generator=tg.Generator().manual_seed(1))
    a = model()
    opt_a = tg.optim.Adam(a.parameters(), lr=1e-2, betas=(0.5, 0.999))
    for _ in range(2):
        opt_a.zero_grad()
        (a(x) ** 2).sum().backward()
        opt_a.step()
    sd = opt_a.state_dict()
    torch_layout = {"state": sd["state"], "param_groups": sd["param_groups"]}   # no "type"
    tg.save(torch_layout, tmp_path / "opt.pt")
    b = model()
    b.load_state_dict(a.state_dict())
    opt_b = tg.optim.Adam(b.parameters(), lr=1e-2, betas=(0.5, 0.999))
    opt_b.load_state_dict(tg.load(tmp_path / "opt.pt"))
    for model_, opt in ((a, opt_a), (b, opt_b)):
        opt.zero_grad()
        (model_(x) ** 2).sum().backward()
        opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
