"""Gaps found porting more pytorch/tutorials programs (pruning, saved-tensor hooks, sdpa
backends, memory formats, ...): expected values from NumPy / first principles."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.utils.prune as prune
from tensorgan.errors import ConfigError, InputTypeError, ShapeError


def _conv(seed=0):
    m = nn.Conv2d(1, 4, 3)
    rs = np.random.RandomState(seed)
    m.load_state_dict({"weight": rs.randn(4, 1, 3, 3).astype(np.float32),
                       "bias": rs.randn(4).astype(np.float32)})
    return m


def test_prune_l1_unstructured_reparametrizes_and_masks_smallest():
    m = _conv()
    w, b = m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()
    prune.l1_unstructured(m, name="bias", amount=2)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias_orig"]
    assert [n for n, _ in m.named_buffers()] == ["bias_mask"]
    keep = np.ones(4, np.float32)
    keep[np.argsort(np.abs(b))[:2]] = 0
    np.testing.assert_array_equal(m.bias_mask.numpy(), keep)
    np.testing.assert_array_equal(m.bias.detach().numpy(), b * keep)
    assert len(m._forward_pre_hooks) == 1
    # the hook recomputes bias from bias_orig before each forward
    with tg.no_grad():
        m.bias_orig.add_(1.0)
    m(tg.randn(1, 1, 5, 5))
    np.testing.assert_allclose(m.bias.detach().numpy(), (b + 1) * keep)
    np.testing.assert_array_equal(m.weight.detach().numpy(), w)
    assert list(m.state_dict()) == ["weight", "bias_orig", "bias_mask"]


def test_prune_gradient_flows_to_orig_through_mask():
    m = nn.Linear(3, 2)
    prune.l1_unstructured(m, "weight", amount=0.5)
    x = tg.ones(1, 3)
    m(x).sum().backward()
    np.testing.assert_array_equal(m.weight_orig.grad.numpy(), m.weight_mask.numpy())


def test_prune_iterative_container_and_ln_structured_keeps_earlier_mask():
    m = _conv(1)
    w = m.weight.detach().numpy().copy()
    prune.l1_unstructured(m, "weight", amount=0.3)
    first = m.weight_mask.numpy().copy()
    prune.ln_structured(m, "weight", amount=0.5, n=2, dim=0)
    hook = next(iter(m._forward_pre_hooks.values()))
    assert isinstance(hook, prune.PruningContainer)
    assert [type(h).__name__ for h in hook] == ["L1Unstructured", "LnStructured"]
    norms = np.sqrt(((w * first) ** 2).reshape(4, -1).sum(1))
    channels = np.zeros(4, np.float32)
    channels[np.argsort(-norms)[:2]] = 1
    np.testing.assert_array_equal(m.weight_mask.numpy(), first * channels[:, None, None, None])
    prune.remove(m, "weight")
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight"]
    assert isinstance(m.weight, nn.Parameter) and not list(m.named_buffers())
    np.testing.assert_array_equal(m.weight.detach().numpy(), w * m.weight.detach().numpy().astype(bool))
    assert not prune.is_pruned(m)


def test_prune_global_unstructured_prunes_smallest_across_layers():
    a, b = nn.Linear(4, 3), nn.Linear(3, 2)
    allw = np.concatenate([a.weight.detach().numpy().ravel(), b.weight.detach().numpy().ravel()])
    prune.global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune.L1Unstructured,
                              amount=6)
    thresh = np.sort(np.abs(allw))[5]
    got = np.concatenate([a.weight_mask.numpy().ravel(), b.weight_mask.numpy().ravel()])
    np.testing.assert_array_equal(got, (np.abs(allw) > thresh).astype(np.float32))


def test_prune_random_and_custom_methods():
    m = nn.Linear(10, 10)
    prune.random_unstructured(m, "weight", amount=0.3)
    assert int((m.weight_mask == 0).sum()) == 30
    prune.random_structured(m, "weight", amount=2, dim=0)
    assert int((m.weight_mask.sum(1) == 0).sum()) >= 2

    class EveryOther(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    EveryOther.apply(m, "bias")
    np.testing.assert_array_equal(m.bias_mask.numpy(), np.tile([0.0, 1.0], 5))
    prune.custom_from_mask(m, "bias", mask=tg.tensor([1.0, 1.0, 0, 0, 1, 1, 1, 1, 1, 0]))
    np.testing.assert_array_equal(m.bias_mask.numpy(), [0, 1, 0, 0, 0, 1, 0, 1, 0, 0])
    assert prune.is_pruned(m)


def test_prune_refusals():
    m = nn.Linear(3, 2)
    with pytest.raises(ConfigError, match="amount"):
        prune.l1_unstructured(m, "weight", amount=1.5)
    with pytest.raises(InputTypeError, match="amount"):
        prune.l1_unstructured(m, "weight", amount="half")
    with pytest.raises(ConfigError, match="smaller than"):
        prune.l1_unstructured(m, "weight", amount=7)
    assert sorted(n for n, _ in m.named_parameters()) == ["bias", "weight"]   # undone
    assert not hasattr(m, "weight_orig") and not m._forward_pre_hooks
    with pytest.raises(ShapeError, match="multidimensional"):
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)
    with pytest.raises(ConfigError, match="pruned before"):
        prune.remove(m, "weight")


def test_sdpa_kernel_backends_and_refusal():
    import tensorgan.nn.functional as F
    from tensorgan.errors import DeviceError
    from tensorgan.nn.attention import SDPBackend, sdpa_kernel
    q = tg.rand(2, 3, 8)
    plain = F.scaled_dot_product_attention(q, q, q).numpy()
    with sdpa_kernel(SDPBackend.MATH):
        np.testing.assert_array_equal(F.scaled_dot_product_attention(q, q, q).numpy(), plain)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        np.testing.assert_array_equal(F.scaled_dot_product_attention(q, q, q).numpy(), plain)
        with pytest.raises(DeviceError, match="float64"):
            F.scaled_dot_product_attention(q.double(), q.double(), q.double())
    with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
        with pytest.raises(RuntimeError, match="no viable backend"):
            F.scaled_dot_product_attention(q, q, q)
    F.scaled_dot_product_attention(q, q, q)          # restored on exit
    with pytest.raises(InputTypeError, match="SDPBackend"):
        with sdpa_kernel("math"):
            pass


def test_causal_bias_variants_as_attn_mask():
    import tensorgan.nn.functional as F
    from tensorgan.nn.attention.bias import CausalBias, causal_lower_right, causal_upper_left
    ul, lr = causal_upper_left(2, 5), causal_lower_right(2, 5)
    assert type(ul) is CausalBias and isinstance(lr, tg.Tensor)
    np.testing.assert_array_equal(ul.numpy(), [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0]])
    np.testing.assert_array_equal(lr._materialize().numpy(), [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])
    q, k = tg.rand(3, 2, 4, dtype=tg.float64), tg.rand(3, 5, 4, dtype=tg.float64)
    got = F.scaled_dot_product_attention(q, k, k, attn_mask=lr).numpy()
    s = q.numpy() @ k.numpy().transpose(0, 2, 1) / 2.0
    s = np.where(lr.numpy(), s, -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    np.testing.assert_allclose(got, (w / w.sum(-1, keepdims=True)) @ k.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, k, attn_mask=ul).numpy(),
                                  F.scaled_dot_product_attention(q, k, k, is_causal=True).numpy())
    with pytest.warns(UserWarning, match="NaN"):
        causal_lower_right(5, 2)


class _Square(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x * x
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * 2 * x + 0 * y


def test_saved_tensors_hooks_pack_on_record_unpack_on_access():
    log = []

    def pack(t):
        log.append(("pack", t.shape))
        return t * 4

    def unpack(t):
        log.append(("unpack", t.shape))
        return t / 4

    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with tg.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = _Square.apply(x)
    assert log == [("pack", (3,)), ("pack", (3,))]
    y.sum().backward()
    assert log[2:] == [("unpack", (3,)), ("unpack", (3,))]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])
    # a pair that is not an inverse changes the gradient: the graph really keeps the packed value
    with tg.autograd.graph.saved_tensors_hooks(lambda t: t * 4, lambda t: t):
        y = _Square.apply(x)
    x.grad = None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, -16.0, 24.0])


def test_saved_tensors_hooks_any_object_freed_after_backward_and_refusals():
    from tensorgan.errors import AutogradError
    freed = []

    class Box:
        def __init__(self, t):
            self.t = t

        def __del__(self):
            freed.append(1)

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.autograd.graph.saved_tensors_hooks(Box, lambda b: b.t):
        y = _Square.apply(x)
    y.sum().backward()
    import gc
    gc.collect()
    assert len(freed) == 2
    with tg.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: "not a tensor"):
        y = _Square.apply(x)
    with pytest.raises(InputTypeError, match="unpack_hook"):
        y.sum().backward()
    with pytest.raises(AutogradError, match="no hooks"):
        with tg.autograd.graph.disable_saved_tensors_hooks("no hooks"):
            with tg.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with tg.autograd.graph.save_on_cpu(pin_memory=True):
        y = _Square.apply(x)
    x.grad = None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_channels_last_strides_conversions_and_checks():
    x = tg.empty(10, 3, 32, 32)
    assert x.stride() == (3072, 1024, 32, 1)
    y = x.to(memory_format=tg.channels_last)
    assert y.shape == (10, 3, 32, 32) and y.stride() == (3072, 1, 96, 3)
    assert y.is_contiguous(memory_format=tg.channels_last) and not y.is_contiguous()
    assert y.to(memory_format=tg.contiguous_format).stride() == (3072, 1024, 32, 1)
    assert y.contiguous().stride() == (3072, 1024, 32, 1)
    assert x.contiguous(memory_format=tg.channels_last).stride() == (3072, 1, 96, 3)
    special = tg.empty(4, 1, 4, 4)          # ambiguous: both layouts at once
    assert special.is_contiguous(memory_format=tg.channels_last) and special.is_contiguous()
    assert special.contiguous(memory_format=tg.channels_last).stride() == (16, 16, 4, 1)
    assert special.to(memory_format=tg.channels_last).stride() == (16, 1, 4, 1)
    z = tg.empty(10, 3, 32, 32, memory_format=tg.channels_last)
    for made in (z.clone(), tg.empty_like(z), tg.zeros_like(z), tg.ones_like(z), z + z, z.double()):
        assert made.stride() == (3072, 1, 96, 3)
    assert tg.rand_like(z, memory_format=tg.contiguous_format).stride() == (3072, 1024, 32, 1)
    assert z.clone(memory_format=tg.contiguous_format).is_contiguous()
    assert repr(tg.channels_last) == "torch.channels_last"
    assert tg.empty(2, 3, 4, 5, 6).to(memory_format=tg.channels_last_3d).stride() == (360, 1, 90, 18, 3)


def test_channels_last_values_gradients_conv_and_refusals():
    rs = np.random.RandomState(0)
    a = rs.randn(2, 4, 5, 5)
    x = tg.tensor(a, requires_grad=True)
    y = x.to(memory_format=tg.channels_last)
    np.testing.assert_array_equal(y.numpy(), a)
    (y * tg.tensor(np.arange(4.0)).view(1, 4, 1, 1)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(np.arange(4.0)[None, :, None, None], a.shape))
    conv = nn.Conv2d(4, 3, 3).double()
    out = conv(y)
    assert out.is_contiguous(memory_format=tg.channels_last)
    np.testing.assert_allclose(out.detach().numpy(), conv(tg.tensor(a)).detach().numpy(), rtol=1e-12)
    with pytest.raises(ShapeError, match="rank 4"):
        tg.empty(2, 3, 4).to(memory_format=tg.channels_last)
    with pytest.raises(InputTypeError, match="preserve"):
        x.contiguous(memory_format=tg.preserve_format)
    with pytest.raises(InputTypeError, match="memory_format"):
        x.contiguous(memory_format="channels_last")


def test_embedding_max_norm_scale_grad_by_freq_and_sparse_options():
    w = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    e = nn.Embedding(3, 2, max_norm=1.0, sparse=True, _weight=tg.tensor(w))
    assert e.weight.dtype == tg.float64
    y = e(tg.tensor([0, 1, 0]))
    # rows 0 (norm 5) renormalized in place to norm 1 (torch's 1e-7 guard), row 1 kept, row 2 unused
    np.testing.assert_allclose(e.weight.detach().numpy(),
                               [[3 / (5 + 1e-7), 4 / (5 + 1e-7)], [0.3, 0.4], [6.0, 8.0]], rtol=1e-12)
    np.testing.assert_allclose(y.detach().numpy()[0], e.weight.detach().numpy()[0])
    f = nn.Embedding(3, 2, scale_grad_by_freq=True)
    f(tg.tensor([[0, 0, 2], [0, 1, 1]])).sum().backward()
    np.testing.assert_allclose(f.weight.grad.numpy(), np.ones((3, 2)))     # count / count
    g = nn.Embedding(3, 2)
    g(tg.tensor([[0, 0, 2], [0, 1, 1]])).sum().backward()
    np.testing.assert_allclose(g.weight.grad.numpy(), [[3, 3], [2, 2], [1, 1]])
    bag = nn.EmbeddingBag(3, 2, mode="sum", max_norm=1.0, _weight=tg.tensor(w))
    out = bag(tg.tensor([0, 2, 1]), tg.tensor([0, 2]))
    np.testing.assert_allclose(out.detach().numpy(), [[1.2, 1.6], [0.3, 0.4]], rtol=1e-6)
    frozen = nn.Embedding(3, 2, _weight=tg.tensor(w), _freeze=True)
    assert not frozen.weight.requires_grad
    with pytest.raises(ConfigError, match="max"):
        nn.EmbeddingBag(3, 2, mode="max", scale_grad_by_freq=True)


def test_step_lr_takes_a_whole_float_step_size():
    opt = tg.optim.SGD([nn.Parameter(tg.zeros(1))], lr=5.0)
    sched = tg.optim.lr_scheduler.StepLR(opt, 1.0, gamma=0.1)
    assert sched.step_size == 1 and isinstance(sched.step_size, int)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="step_size"):
        tg.optim.lr_scheduler.StepLR(opt, 0.0)        # (a fractional 1.5 is torch's: accepted)


def test_tensor_of_a_tensor_is_a_detached_copy_with_warning():
    src = tg.tensor([0.485, 0.456, 0.406], requires_grad=True) * 2
    with pytest.warns(UserWarning, match="detach"):
        t = tg.tensor(src)
    assert not t.requires_grad and t.grad_fn is None and t.dtype == src.dtype
    np.testing.assert_array_equal(t.numpy(), src.detach().numpy())
    t.view(-1)[0] = 5.0                   # a copy: the source is untouched
    assert float(src[0]) == pytest.approx(0.97)
    with pytest.warns(UserWarning):
        d = tg.tensor(tg.tensor([1, 2]), dtype=tg.float64, requires_grad=True)
    assert d.dtype == tg.float64 and d.requires_grad and d.is_leaf


def test_torch_module_paths_nn_modules_and_autograd_gradcheck():
    from tensorgan.autograd.gradcheck import gradcheck
    from tensorgan.nn.modules.loss import _Loss
    from tensorgan.nn.modules.module import Module
    from tensorgan.nn.modules.utils import _pair, _triple
    import tensorgan.nn.modules as modules
    assert Module is nn.Module and modules.Conv2d is nn.Conv2d and issubclass(nn.MSELoss, _Loss)
    assert _pair(3) == (3, 3) and _pair((1, 2)) == (1, 2) and _triple(0) == (0, 0, 0)
    assert tg.autograd.gradcheck is gradcheck and callable(tg.autograd.gradcheck)
    assert gradcheck(lambda x: (x * x).sum(), (tg.randn(3, dtype=tg.float64, requires_grad=True),))


def test_compile_runs_eagerly_and_benchmark_timer():
    net = nn.Linear(2, 2)
    assert tg.compile(net)._orig_mod is net and tg.compile(net, mode="max-autotune")._orig_mod is net
    assert tg.compile(net, disable=True) is net

    @tg.compile(fullgraph=True)
    def f(x):
        return x * 2

    np.testing.assert_array_equal(f(tg.ones(2)).numpy(), [2.0, 2.0])
    with pytest.raises(InputTypeError, match="callable"):
        tg.compile(3)
    from tensorgan.utils import benchmark
    m = benchmark.Timer(stmt="f(x)", globals={"f": f, "x": tg.ones(2)}).blocked_autorange(min_run_time=0.05)
    assert m.mean > 0 and m.median > 0 and len(m.times) >= 1 and m.number_per_run >= 1
    assert benchmark.Timer("x + 1", globals={"x": 1}).timeit(100).times[0] > 0


def test_as_tensor_of_a_tensor_is_itself_or_a_differentiable_cast():
    x = tg.ones(2, requires_grad=True)
    assert tg.as_tensor(x) is x and tg.as_tensor(x, dtype=tg.float32) is x
    y = tg.as_tensor(x, dtype=tg.float64)
    assert y.dtype == tg.float64 and y.requires_grad
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_profiler_records_marked_ranges_and_schedule():
    import json
    from tensorgan.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule
    with profile(activities=[ProfilerActivity.CPU], record_shapes=False) as prof:
        with record_function("outer"):
            for _ in range(3):
                with record_function("inner"):
                    tg.ones(4).sum()
    avg = {e.key: e for e in prof.key_averages()}
    assert avg["inner"].count == 3 and avg["outer"].count == 1
    assert avg["outer"].cpu_time_total >= avg["inner"].cpu_time_total > 0
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)
    assert table.index("outer") < table.index("inner")
    sched = schedule(wait=1, warmup=1, active=2, repeat=1)
    assert [sched(i) for i in range(5)] == [ProfilerAction.NONE, ProfilerAction.WARMUP,
                                           ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE,
                                           ProfilerAction.NONE]
    ready = []
    with profile(schedule=sched, on_trace_ready=ready.append) as p:
        for step in range(5):
            with record_function(f"step{step}"):
                pass
            p.step()
    assert len(ready) == 1 and [e.name for e in p.events()] == ["step2", "step3"]


def test_profiler_chrome_trace(tmp_path):
    import json
    from tensorgan.profiler import profile, record_function
    with profile() as prof:
        with record_function("work"):
            pass
    prof.export_chrome_trace(str(tmp_path / "t.json"))
    events = json.load(open(tmp_path / "t.json"))["traceEvents"]
    assert [e["name"] for e in events] == ["work"] and events[0]["ph"] == "X"
