"""torch's mixed-precision and memory-saving training API: tg.amp.GradScaler (torch's algorithm),
tg.autocast (recorded; the region computes in float32), tg.utils.checkpoint (activation
checkpointing), tg.testing.assert_close / make_tensor, set_float32_matmul_precision, tg.jit."""
import gc
import weakref

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan import amp
from tensorgan.errors import AmpError, CheckpointError, ConfigError, DeviceError, InputTypeError
from tensorgan.utils.checkpoint import checkpoint, checkpoint_sequential


def _model(seed=0, dtype=tg.float32):
    tg.manual_seed(seed)
    m = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    return m.double() if dtype is tg.float64 else m


def _data(n=20, dtype=np.float32):
    rng = np.random.default_rng(0)
    return [(tg.tensor(rng.standard_normal((4, 3)).astype(dtype)),
             tg.tensor(rng.standard_normal((4, 1)).astype(dtype))) for _ in range(n)]


# -- GradScaler --------------------------------------------------------------------------------
def test_scale_multiplies_by_the_scale_and_keeps_containers():
    s = tg.amp.GradScaler("cpu", init_scale=8.0)
    x = tg.tensor([1.0, -2.0])
    np.testing.assert_array_equal(s.scale(x).numpy(), [8.0, -16.0])
    out = s.scale([x, (x, x)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    np.testing.assert_array_equal(out[1][0].numpy(), [8.0, -16.0])
    assert s.scale(tg.tensor([1.0], dtype=tg.float64)).dtype == tg.float64
    with pytest.raises(InputTypeError):
        s.scale(3.0)


def test_scaler_trajectory_skips_and_unscaled_gradients_match_plain_training():
    """growth_interval 3, a forced inf at step 4: torch's rule gives this exact trajectory; the
    parameters equal a plain run that skips the same step (the scale is a power of two, so
    scaling and unscaling are exact)."""
    data = _data(10)
    scaled, plain = _model(), _model()
    opt_s = tg.optim.SGD(scaled.parameters(), lr=0.1)
    opt_p = tg.optim.SGD(plain.parameters(), lr=0.1)
    scaler = tg.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=3)
    scales = []
    for step, (x, y) in enumerate(data):
        for m, opt in ((scaled, opt_s), (plain, opt_p)):
            opt.zero_grad()
            loss = ((m(x) - y) ** 2).mean()
            (scaler.scale(loss) if m is scaled else loss).backward()
        if step == 4:
            with tg.no_grad():
                scaled[0].weight.grad[0, 0] = float("nan")
        if step == 2:
            scaler.unscale_(opt_s)   # the true gradients, before step
            for p, q in zip(scaled.parameters(), plain.parameters()):
                np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
        before = scaled[2].bias.numpy().copy()
        result = scaler.step(opt_s)
        if step == 4:
            assert result is None
            np.testing.assert_array_equal(scaled[2].bias.numpy(), before)   # skipped
        else:
            opt_p.step()
        scaler.update()
        scales.append(scaler.get_scale())
    g = 2.0 ** 10
    assert scales == [g, g, 2 * g, 2 * g, g, g, g, 2 * g, 2 * g, 2 * g]
    for p, q in zip(scaled.parameters(), plain.parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=0, atol=1e-7)
    assert scaler.state_dict() == {"scale": 2 * g, "growth_factor": 2.0, "backoff_factor": 0.5,
                                   "growth_interval": 3, "_growth_tracker": 2}


def test_scaler_growth_stops_at_float32_overflow_and_update_new_scale():
    s = tg.amp.GradScaler("cpu", init_scale=2.0 ** 127, growth_interval=1)
    m = _model()
    opt = tg.optim.SGD(m.parameters(), lr=0.0)
    x, y = _data(1)[0]
    s.scale(((m(x) - y) ** 2).mean() * 0.0).backward()
    s.step(opt)
    s.update()
    assert s.get_scale() == 2.0 ** 127      # 2**128 is inf in float32: kept, tracker reset
    assert s.state_dict()["_growth_tracker"] == 0
    s.update(4.0)
    assert s.get_scale() == 4.0
    s.update(tg.tensor(2.0))
    assert s.get_scale() == 2.0
    with pytest.raises(InputTypeError):
        s.update(tg.tensor([1.0, 2.0]))


def test_scaler_misuse_raises_typed_errors():
    m = _model()
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    x, y = _data(1)[0]
    s = tg.amp.GradScaler("cpu")
    for call in (lambda: s.unscale_(opt), lambda: s.step(opt), lambda: s.update()):
        with pytest.raises(AmpError, match="scaler.scale"):
            call()
    s.scale(((m(x) - y) ** 2).mean()).backward()
    with pytest.raises(AmpError, match="Closure"):
        s.step(opt, closure=lambda: None)
    s.unscale_(opt)
    with pytest.raises(AmpError, match="already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(AmpError, match="after step"):
        s.unscale_(opt)
    with pytest.raises(AmpError, match="step\\(\\) has already"):
        s.step(opt)
    s.update()
    s.unscale_(opt)          # a new iteration: allowed again
    with pytest.raises(ConfigError):
        tg.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(ConfigError):
        tg.amp.GradScaler("cpu", backoff_factor=1.5)
    empty = tg.optim.SGD([tg.zeros(2, requires_grad=True)], lr=0.1)
    s2 = tg.amp.GradScaler("cpu")
    s2.scale(tg.ones(1))
    with pytest.raises(AmpError, match="no inf checks"):
        s2.step(empty)


def test_disabled_scaler_is_a_pass_through():
    m = _model()
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    s = tg.amp.GradScaler("cpu", enabled=False)
    x, y = _data(1)[0]
    loss = ((m(x) - y) ** 2).mean()
    assert s.scale(loss) is loss
    loss.backward()
    before = m[2].bias.numpy().copy()
    s.unscale_(opt)
    s.step(opt)
    s.update()
    assert not np.array_equal(m[2].bias.numpy(), before)
    assert s.get_scale() == 1.0 and s.state_dict() == {} and not s.is_enabled()
    s.load_state_dict({})    # a no-op, as torch


def test_scaler_state_dict_round_trips_through_tg_save(tmp_path):
    s = tg.amp.GradScaler("cpu", init_scale=256.0, growth_interval=5)
    m = _model()
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    x, y = _data(1)[0]
    s.scale(((m(x) - y) ** 2).mean()).backward()
    s.step(opt)
    s.update()
    path = tmp_path / "scaler.pt"
    tg.save({"scaler": s.state_dict()}, path)
    s2 = tg.amp.GradScaler("cpu")
    s2.load_state_dict(tg.load(path)["scaler"])
    assert s2.state_dict() == s.state_dict() == {"scale": 256.0, "growth_factor": 2.0,
                                                 "backoff_factor": 0.5, "growth_interval": 5,
                                                 "_growth_tracker": 1}
    with pytest.raises(AmpError, match="empty"):
        s2.load_state_dict({})
    with pytest.raises(CheckpointError, match="growth_interval"):
        s2.load_state_dict({"scale": 1.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                            "_growth_tracker": 0})


def test_cuda_scaler_without_cuda_disables_itself_as_torch(monkeypatch):
    monkeypatch.setattr(amp, "_cuda_available", lambda: False)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        s = tg.amp.GradScaler()
    assert not s.is_enabled()
    with pytest.warns(FutureWarning, match="deprecated"):
        with pytest.warns(UserWarning, match="CUDA is not available"):
            assert not tg.cuda.amp.GradScaler(enabled=True).is_enabled()
    with pytest.warns(FutureWarning, match="deprecated"):
        assert tg.cpu.amp.GradScaler().is_enabled()
    with pytest.warns(UserWarning, match="CUDA is not available"):
        with tg.autocast("cuda"):
            assert not tg.is_autocast_enabled("cuda")


# -- autocast ----------------------------------------------------------------------------------
def test_autocast_records_state_nests_and_computes_float32(monkeypatch):
    monkeypatch.setattr(amp, "_warned_float32", [False])
    assert not tg.is_autocast_enabled("cpu")
    assert tg.get_autocast_dtype("cpu") is tg.bfloat16
    w = tg.randn(3, 3)
    with pytest.warns(UserWarning, match="runs in float32"):
        with tg.autocast("cpu") as ac:
            assert isinstance(ac, tg.autocast)
            assert tg.is_autocast_enabled("cpu") and not tg.is_autocast_enabled()
            out = w @ w
            with tg.autocast("cpu", enabled=False):
                assert not tg.is_autocast_enabled("cpu")
            with tg.amp.autocast("cpu", dtype=tg.float16):
                assert tg.get_autocast_dtype("cpu") is tg.float16
            assert tg.is_autocast_enabled("cpu") and tg.get_autocast_dtype("cpu") is tg.bfloat16
    assert not tg.is_autocast_enabled("cpu")
    assert out.dtype == tg.float32
    np.testing.assert_array_equal(out.numpy(), (w @ w).numpy())

    @tg.autocast("cpu")
    def f():
        return tg.is_autocast_enabled("cpu")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # warned once already
        assert f() and not tg.is_autocast_enabled("cpu")


def test_autocast_unsupported_dtype_and_device_type():
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        with tg.autocast("cpu", dtype=tg.float32):
            assert not tg.is_autocast_enabled("cpu")
    with pytest.raises(DeviceError):
        tg.autocast("foo")
    with pytest.raises(InputTypeError):
        tg.autocast(0)
    with pytest.raises(InputTypeError):
        tg.autocast("cpu")(3)


def test_custom_fwd_casts_inputs_only_under_autocast(monkeypatch):
    monkeypatch.setattr(amp, "_warned_float32", [True])

    class Ctx:
        pass
    seen = []

    @tg.amp.custom_fwd(device_type="cpu", cast_inputs=tg.float64)
    def fwd(ctx, x):
        seen.append((x.dtype, tg.is_autocast_enabled("cpu")))
        return x

    @tg.amp.custom_bwd(device_type="cpu")
    def bwd(ctx, g):
        return tg.is_autocast_enabled("cpu")
    x = tg.ones(2)
    ctx = Ctx()
    fwd(ctx, x)
    with tg.autocast("cpu"):
        fwd(ctx, x)
        assert bwd(ctx, x) is False       # backward runs as the (cast) forward did: autocast off
    assert seen == [(tg.float32, False), (tg.float64, False)]
    with pytest.raises(TypeError):
        tg.amp.custom_fwd(fwd)            # device_type is required, as torch


# -- checkpoint --------------------------------------------------------------------------------
class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.drop = nn.Linear(4, 16), nn.Linear(16, 4), nn.Dropout(0.5)
        self.alive = []

    def forward(self, x):
        h = self.fc1(x).tanh()
        self.alive.append(weakref.ref(h))
        return self.fc2(self.drop(h))


def _grads(module, *xs):
    return [p.grad.numpy().copy() for p in module.parameters()] + [x.grad.numpy().copy() for x in xs]


def test_checkpoint_gradients_equal_plain_run_with_dropout_and_rng_continues():
    tg.manual_seed(1)
    block = _Block()
    x = tg.randn(8, 4, requires_grad=True)
    state = tg.get_rng_state()
    ((block(x) * 1.5).sin().sum()).backward()
    plain, after_plain = _grads(block, x), tg.rand(3).numpy()
    block.zero_grad()
    x.grad = None
    tg.set_rng_state(state)
    out = checkpoint(block, x, use_reentrant=False)
    gc.collect()
    assert block.alive[-1]() is None          # the block's activation was not kept
    ((out * 1.5).sin().sum()).backward()
    assert tg.rand(3).numpy().tolist() == after_plain.tolist()   # backward's rerun did not draw
    for a, b in zip(plain, _grads(block, x)):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_without_preserved_rng_state_draws_a_new_mask():
    tg.manual_seed(2)
    block = _Block()
    x = tg.randn(64, 4, requires_grad=True)
    state = tg.get_rng_state()
    block(x).sum().backward()
    plain = _grads(block, x)
    block.zero_grad()
    x.grad = None
    tg.set_rng_state(state)
    checkpoint(block, x, use_reentrant=False, preserve_rng_state=False).sum().backward()
    assert not np.array_equal(plain[0], _grads(block, x)[0])


def test_checkpoint_gradient_penalty_with_create_graph_matches_plain():
    """A gradient penalty through a checkpointed discriminator block: d(penalty)/d(params) equal,
    including the parameters of a layer before the block (second-order terms through its input)."""
    def run(use):
        tg.manual_seed(3)
        pre, D = nn.Linear(4, 4).double(), nn.Sequential(
            nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1)).double()
        x = tg.randn(5, 4, dtype=tg.float64, requires_grad=True)
        h = pre(x).tanh()
        out = checkpoint_sequential(D, 2, h, use_reentrant=False) if use else D(h)
        g, = tg.autograd.grad(out.sum(), x, create_graph=True)
        ((g.norm(2, dim=1) - 1) ** 2).mean().backward()
        return [p.grad.numpy().copy() for p in list(pre.parameters()) + list(D.parameters())[:-1]]
    plain, checkpointed = run(False), run(True)
    assert len(plain) == 7 and all(np.abs(a).max() > 0 for a in plain)
    for a, b in zip(plain, checkpointed):     # the same sums, in another order
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_checkpoint_reentrant_needs_an_input_that_requires_grad_as_torch():
    lin = nn.Linear(3, 3)
    x = tg.randn(2, 3)
    with pytest.warns(UserWarning, match="None of the inputs"):
        assert not checkpoint(lin, x, use_reentrant=True).requires_grad
    out = checkpoint(lin, x, use_reentrant=False)      # parameters still get gradients
    out.sum().backward()
    np.testing.assert_allclose(lin.bias.grad.numpy(), [2.0, 2.0, 2.0])
    with pytest.warns(UserWarning, match="use_reentrant"):
        checkpoint(lin, x.requires_grad_())
    with pytest.raises(ConfigError, match="unexpected keyword"):
        checkpoint(lambda a, b: a * b, x, b=2, use_reentrant=True)
    y = checkpoint(lambda a, b: a * b, x, b=2, use_reentrant=False)
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy() * 2)
    with tg.no_grad():
        assert not checkpoint(lin, x, use_reentrant=False).requires_grad


def test_checkpoint_multiple_outputs_and_sequential_segments():
    x = tg.randn(3, 2, requires_grad=True)
    a, b = checkpoint(lambda t: (t.sin(), t * 2), x, use_reentrant=False)
    a.sum().backward()                    # b gets no gradient
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.detach().numpy()), rtol=1e-6)
    tg.manual_seed(4)
    seq = nn.Sequential(*[nn.Linear(2, 2) for _ in range(5)])
    y = tg.randn(3, 2, requires_grad=True)
    seq(y).square().sum().backward()
    plain = _grads(seq, y)
    seq.zero_grad()
    y.grad = None
    checkpoint_sequential(seq, 3, y, use_reentrant=False).square().sum().backward()
    for u, v in zip(plain, _grads(seq, y)):
        np.testing.assert_array_equal(u, v)
    with pytest.raises(ConfigError):
        checkpoint_sequential(seq, 2, y, use_reentrant=False, foo=1)


# -- testing.assert_close / make_tensor --------------------------------------------------------
def test_assert_close_messages_and_default_tolerances():
    with pytest.raises(AssertionError) as e:
        tg.testing.assert_close(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([1.0, 2.5, 3.1]))
    assert str(e.value) == ("Tensor-likes are not close!\n\nMismatched elements: 2 / 3 (66.7%)\n"
                            "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
                            "Greatest relative difference: 0.20000000298023224 at index (1,) (up "
                            "to 1.3e-06 allowed)")
    with pytest.raises(AssertionError) as e:
        tg.testing.assert_close(tg.tensor([1, 2]), tg.tensor([1, 3]))
    assert str(e.value) == ("Tensor-likes are not equal!\n\nMismatched elements: 1 / 2 (50.0%)\n"
                            "Greatest absolute difference: 1 at index (1,)\n"
                            "Greatest relative difference: 0.3333333432674408 at index (1,)")
    with pytest.raises(AssertionError) as e:
        tg.testing.assert_close(tg.tensor(1.0), tg.tensor(2.0))
    assert str(e.value).startswith("Scalars are not close!\n\nExpected 2.0 but got 1.0.")
    with pytest.raises(AssertionError, match="attribute 'dtype'"):
        tg.testing.assert_close(tg.tensor([1.0]), tg.tensor([1.0], dtype=tg.float64))
    with pytest.raises(AssertionError, match="attribute 'shape'"):
        tg.testing.assert_close(tg.tensor([1.0]), tg.tensor([1.0, 2.0]))
    with pytest.raises(AssertionError, match=r"The failure occurred for item \['a'\]\[0\]"):
        tg.testing.assert_close({"a": [tg.tensor([1.0])]}, {"a": [tg.tensor([1.5])]})
    with pytest.raises(AssertionError, match="^custom$"):
        tg.testing.assert_close(tg.tensor([1.0]), tg.tensor([2.0]), msg="custom")
    with pytest.raises(ConfigError, match="atol"):
        tg.testing.assert_close(tg.tensor([1.0]), tg.tensor([1.0]), rtol=0.1)
    with pytest.raises(InputTypeError):
        tg.testing.assert_close(tg.tensor([1.0]), [1.0])
    # within tolerance: float32 1.3e-6 relative + 1e-5 absolute; float64 1e-7 / 1e-7
    tg.testing.assert_close(tg.tensor([1000.0]), tg.tensor([1000.0 + 1000 * 1.2e-6]))
    with pytest.raises(AssertionError):
        tg.testing.assert_close(tg.tensor([1000.0], dtype=tg.float64),
                                tg.tensor([1000.0 + 1000 * 1.2e-6], dtype=tg.float64))
    nan = float("nan")
    with pytest.raises(AssertionError):
        tg.testing.assert_close(tg.tensor([nan]), tg.tensor([nan]))
    tg.testing.assert_close(tg.tensor([nan, float("inf")]), tg.tensor([nan, float("inf")]),
                            equal_nan=True)
    tg.testing.assert_close(tg.tensor([1.0]), tg.tensor([1.0], dtype=tg.float64), check_dtype=False)
    with pytest.raises(AssertionError, match="types do not match"):
        tg.testing.assert_close(1, 1.0)


def test_make_tensor_ranges_and_dtypes():
    t = tg.testing.make_tensor(50, 4, dtype=tg.float32, device="cpu", low=-2, high=3)
    assert t.shape == (50, 4) and t.dtype == tg.float32
    assert float(t.min()) >= -2 and float(t.max()) < 3
    i = tg.testing.make_tensor((200,), dtype=tg.int64, device="cpu", low=0, high=3, exclude_zero=True)
    assert set(i.numpy().tolist()) <= {1, 2}
    assert tg.testing.make_tensor(3, dtype=tg.float64, device="cpu", requires_grad=True).requires_grad


# -- matmul precision, jit ---------------------------------------------------------------------
def test_float32_matmul_precision_is_recorded_and_changes_nothing():
    before = tg.get_float32_matmul_precision()
    a = tg.randn(4, 4)
    try:
        ref = (a @ a).numpy()
        tg.set_float32_matmul_precision("medium")
        assert tg.get_float32_matmul_precision() == "medium"
        np.testing.assert_array_equal((a @ a).numpy(), ref)
        with pytest.warns(UserWarning, match="no effect"):
            tg.set_float32_matmul_precision("fast")
        assert tg.get_float32_matmul_precision() == "medium"
        with pytest.raises(InputTypeError):
            tg.set_float32_matmul_precision(1)
    finally:
        tg.set_float32_matmul_precision(before)


def test_jit_shims_are_identities():
    m = nn.Linear(2, 2)
    assert tg.jit.script(m) is m and tg.jit.trace(m, tg.randn(1, 2)) is m

    def f(x):
        return x
    assert tg.jit.ignore(f) is f and tg.jit.ignore(drop=True)(f) is f and tg.jit.unused(f) is f
    assert not tg.jit.is_scripting() and not tg.jit.is_tracing()
    assert tg.jit.annotate(list, [1]) == [1]
    with pytest.raises(InputTypeError):
        tg.jit.script(3)
