"""Every warning tensorgan gives points at the user's line (this file), as torch's do: each test
calls a public entry point (method, tg.<fn>, F.<fn>, module forward) that warns and checks the
warning's filename. Once-a-program flags are reset with monkeypatch."""
import re
import sys
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan import nn

tensor_mod = sys.modules["tensorgan.tensor"]
spectral_mod = sys.modules["tensorgan.spectral"]


class _Here:
    """``with _here("message regex"):`` -- the block gives a warning matching the regex, and
    every such warning points at this file."""

    def __init__(self, match: str) -> None:
        self.match = match

    def __enter__(self) -> None:
        self._cm = warnings.catch_warnings(record=True)
        self.caught = self._cm.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc) -> bool:
        self._cm.__exit__(*exc)
        if exc[0] is not None:
            return False
        hits = [w for w in self.caught if re.search(self.match, str(w.message))]
        assert hits, [str(w.message)[:80] for w in self.caught]
        wrong = [(w.filename, w.lineno) for w in hits if w.filename != __file__]
        assert not wrong, wrong
        return False


_here = _Here


def _leaf(*shape):
    return tg.randn(*shape, requires_grad=True)


# --- tensor.py ---------------------------------------------------------------------------------
def test_read_only_array(monkeypatch):
    a = np.zeros(3)
    a.flags.writeable = False
    for make in (tg.from_numpy, tg.as_tensor):
        monkeypatch.setattr(tensor_mod, "_READ_ONLY_WARNED", [False])
        with _here("not writable"):
            make(a)


def test_expanded_in_place():
    x = tg.zeros(1, 3).expand(2, 3)
    with _here("expanded tensors"):
        x.masked_fill_(tg.ones(2, 3, dtype=tg.bool), 1.0)


def test_backward_create_graph(monkeypatch):
    monkeypatch.setattr(tensor_mod, "_ONCE_WARNED", {})
    w = _leaf(3)
    with _here("create_graph=True"):
        (w * w).sum().backward(create_graph=True)
    monkeypatch.setattr(tensor_mod, "_ONCE_WARNED", {})
    with _here("create_graph=True"):
        tg.autograd.backward((w * w).sum(), create_graph=True)


def test_non_leaf_grad():
    y = _leaf(2) * 2
    with _here("non-leaf|is not a leaf"):
        y.grad


def test_scalar_of_grad(monkeypatch):
    for convert in (float, complex):
        monkeypatch.setattr(tensor_mod, "_ONCE_WARNED", {})
        with _here("to a scalar"):
            convert(_leaf(1))


def test_tensor_of_losses():
    a, b = _leaf(()).sum(), _leaf(()).sum()
    with _here("to a scalar"):
        tg.tensor([a, b])
    with _here("to a scalar"):
        tg.Tensor([a, b])


def test_uint8_index():
    x, mask = tg.arange(3.0), tg.tensor([1, 0, 1], dtype=tg.uint8)
    with _here("uint8"):
        x[mask]
    with _here("uint8"):        # (a one-element value is refused, as torch's masked_fill_)
        x[mask] = tg.tensor([5.0, 6.0])


def test_list_key():
    x = tg.zeros(3, 3)
    with _here("non-tuple sequence"):
        x[[slice(None), 0]]
    with _here("non-tuple sequence"):
        x[[slice(None), 0]] = 1.0


def test_deprecated_overload(monkeypatch):
    x, y = tg.zeros(3), tg.ones(3)
    for call in (lambda: x.add_(2, y), lambda: x.add(2, y), lambda: tg.add(x, 2, y),
                 lambda: x.addcmul_(2, y, y), lambda: tg.addcmul(x, 2, y, y)):
        monkeypatch.setattr(tensor_mod, "_ONCE_WARNED", {})
        with _here("overload"):
            call()


def test_copy_construct():
    with _here("copy construct"):
        tg.tensor(tg.zeros(2))


# --- functional.py -----------------------------------------------------------------------------
def test_implicit_softmax_dim():
    x = tg.randn(2, 3)
    calls = (lambda: F.softmax(x), lambda: F.log_softmax(x), lambda: F.softmin(x),
             lambda: nn.Softmax()(x), lambda: nn.LogSoftmax()(x), lambda: nn.Softmin()(x))
    for call in calls:
        with _here("implicit dimension"):
            call()


def test_gumbel_softmax_eps():
    with _here("eps"):
        F.gumbel_softmax(tg.randn(2, 3), eps=1e-5)


def test_dropout2d_3d_dropout3d():
    for call in (lambda: F.dropout2d(tg.ones(2, 3, 4)), lambda: F.dropout2d(tg.ones(2, 3)),
                 lambda: nn.Dropout2d()(tg.ones(2, 3, 4)), lambda: F.dropout3d(tg.ones(2, 3)),
                 lambda: nn.Dropout3d()(tg.ones(2, 3))):
        with _here("Received a"):
            call()


def test_legacy_reduction():
    x, y = tg.randn(2, 3), tg.randn(2, 3)
    c = tg.tensor([0, 2])
    for call in (lambda: F.mse_loss(x, y, size_average=True), lambda: F.l1_loss(x, y, reduce=False),
                 lambda: F.cross_entropy(x, c, size_average=False),
                 lambda: F.multi_margin_loss(x, c, size_average=False),
                 lambda: nn.MSELoss(size_average=False)(x, y),
                 lambda: nn.KLDivLoss(size_average=False)(x, y)):
        with _here("size_average and reduce"):
            call()


def test_broadcast_loss():
    for call in (lambda: F.mse_loss(tg.randn(2, 3), tg.randn(3)),
                 lambda: nn.L1Loss()(tg.randn(2, 3), tg.randn(3))):
        with _here("different to the input size|broadcast"):
            call()


def test_kl_div_mean():
    x = tg.randn(2, 3).log_softmax(1)
    for call in (lambda: F.kl_div(x, x.exp()), lambda: nn.KLDivLoss()(x, x.exp())):
        with _here("batchmean"):
            call()


def test_grid_sample_affine_grid():
    theta = tg.eye(2, 3).unsqueeze(0)
    with _here("align_corners=False"):
        grid = F.affine_grid(theta, (1, 1, 3, 3))
    with _here("align_corners=False"):
        F.grid_sample(tg.randn(1, 1, 3, 3), grid)
    with _here("unit-size"):
        F.affine_grid(theta, (1, 1, 1, 3), align_corners=True)


def test_upsample_deprecated():
    x = tg.randn(1, 1, 2, 2)
    for call in (lambda: F.upsample(x, scale_factor=2), lambda: F.upsample_nearest(x, scale_factor=2),
                 lambda: F.upsample_bilinear(x, scale_factor=2)):
        with _here("deprecated"):
            call()


# --- nn ----------------------------------------------------------------------------------------
def test_instance_norm_unused_num_features():
    with _here("does not match num_features"):
        nn.InstanceNorm2d(4)(tg.randn(1, 3, 2, 2))


def test_deprecated_modules_and_inits():
    with _here("Container"):
        nn.Container()
    with _here("NLLLoss2d"):
        nn.NLLLoss2d()
    with _here("nn.init.uniform"):
        nn.init.uniform(tg.empty(2))
    with _here("Lazy modules"):
        nn.LazyLinear(3)


def test_zero_element_init():
    for call in (lambda: nn.init.kaiming_uniform_(tg.empty(0, 3)),
                 lambda: nn.init.kaiming_normal_(tg.empty(0, 3)), lambda: nn.Linear(0, 3)):
        with _here("zero-element"):
            call()


def test_trunc_normal_far_mean():
    with _here("more than 2 std"):
        nn.init.trunc_normal_(tg.empty(3), mean=10.0)


def test_rnn_dropout_one_layer():
    for make in (nn.RNN, nn.LSTM, nn.GRU):
        with _here("dropout"):
            make(2, 3, dropout=0.5)


def test_causal_lower_right():
    from tensorgan.nn.attention.bias import causal_lower_right
    with _here("NaNs"):
        causal_lower_right(3, 2)


def test_backward_hook_deprecated():
    m = nn.Linear(2, 2)
    with _here("register_backward_hook is deprecated"):
        m.register_backward_hook(lambda *a: None)
    from tensorgan.nn.modules.module import register_module_backward_hook
    with _here("register_module_backward_hook is deprecated"):
        handle = register_module_backward_hook(lambda *a: None)
    handle.remove()


class _ListOut(nn.Module):
    def forward(self, x):
        return [x * 2]


def test_full_backward_hook_warnings():
    m = _ListOut()
    m.register_full_backward_hook(lambda *a: None)
    with _here("module output should be a Tensor"):
        m(_leaf(2))
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda *a: None)
    out = lin(tg.randn(1, 2)).sum()
    with _here("no inputs require gradients"):
        out.backward()


def test_always_call_hook_error():
    m = nn.Linear(2, 2)

    def bad_hook(*args):
        raise ValueError("hook failed")
    m.register_forward_hook(bad_hook, always_call=True)
    with _here("always_call=True"), pytest.raises(Exception):
        m(tg.randn(1, 3))


def test_nn_utils_deprecated():
    m = nn.Linear(2, 2)
    with _here("clip_grad_norm"):
        nn.utils.clip_grad_norm(m.parameters(), 1.0)
    with _here("weight_norm"):
        nn.utils.weight_norm(m)


# --- optim -------------------------------------------------------------------------------------
def test_duplicate_parameters():
    p = _leaf(2)
    with _here("duplicate parameters"):
        tg.optim.SGD([p, p], lr=0.1)
    opt = tg.optim.SGD([_leaf(2)], lr=0.1)
    with _here("duplicate parameters"):
        opt.add_param_group({"params": [p, p]})


def test_scheduler_warnings():
    p = _leaf(2)
    opt = tg.optim.SGD([p], lr=0.1)
    sched = tg.optim.lr_scheduler.StepLR(opt, 2)
    with _here("before"):
        sched.step()
    with _here("get_last_lr"):
        sched.get_lr()
    with _here(r"step\(epoch\)"):
        sched.step(3)


# --- autograd, grad mode, factories, misc --------------------------------------------------------
def test_autograd_deprecations():
    w = _leaf(2)
    with _here("only_inputs"):
        tg.autograd.grad((w * w).sum(), w, only_inputs=False)
    with _here("volatile"):
        tg.autograd.Variable(tg.zeros(2), volatile=True)
    with _here("Anomaly Detection"):
        tg.autograd.detect_anomaly()


def test_torch_extras_and_compat():
    with _here("tg.range"):
        tg.range(0, 3)
    with _here("set_float32_matmul_precision"):
        tg.set_float32_matmul_precision("fastest")
    with _here("set_default_tensor_type"), pytest.raises(Exception):
        tg.set_default_tensor_type("torch.NoSuchTensor")
    x = tg.zeros(2, 3)
    with _here("TypedStorage"):
        x.storage()
    with _here("non-inplace resize"):
        x.resize(3, 2)
    with _here("non-inplace resize_as"):
        x.resize_as(tg.zeros(3, 2))


def test_meshgrid_indexing(monkeypatch):
    shape_mod = sys.modules["tensorgan.shape_index_ops"]
    monkeypatch.setattr(shape_mod, "_meshgrid_warned", False)
    with _here("indexing argument"):
        tg.meshgrid(tg.arange(2), tg.arange(3))


def test_complex_to_real():
    z = tg.tensor([1 + 2j])
    for call in (lambda: z.float(), lambda: z.to(tg.float64), lambda: z.double(),
                 lambda: z.type(tg.float32)):
        with _here("imaginary part"):
            call()


def test_testing_assert_allclose():
    with _here("assert_allclose"):
        tg.testing.assert_allclose(tg.zeros(2), tg.zeros(2))


# --- amp ---------------------------------------------------------------------------------------
def test_autocast_warnings(monkeypatch):
    amp_mod = sys.modules["tensorgan.amp"]
    monkeypatch.setattr(amp_mod, "_cuda_available", lambda: False)
    for make in (lambda: tg.amp.autocast("cuda"), lambda: tg.autocast("cuda"),
                 lambda: tg.cuda.amp.autocast(), lambda: tg.amp.GradScaler("cuda"),
                 lambda: tg.cuda.amp.GradScaler()):
        with _here("CUDA is not available"):
            make()
    with _here("target dtype is not supported"):
        tg.amp.autocast("cpu", dtype=tg.float64)
    monkeypatch.setattr(amp_mod, "_warned_float32", [False])
    with _here("runs in float32"):
        with tg.amp.autocast("cpu"):
            pass


def test_deprecated_amp_aliases():
    with _here("cpu.amp.GradScaler"):
        tg.cpu.amp.GradScaler()
    with _here("cpu.amp.autocast"):
        tg.cpu.amp.autocast()
    with _here("cuda.amp.GradScaler"):
        tg.cuda.amp.GradScaler()
    with _here("cuda.amp.autocast"):
        tg.cuda.amp.autocast()
    with _here("cuda.amp.custom_fwd"):
        tg.cuda.amp.custom_fwd(lambda ctx, x: x)
    with _here("cuda.amp.custom_bwd"):
        tg.cuda.amp.custom_bwd(lambda ctx, g: g)


# --- spectral ----------------------------------------------------------------------------------
def test_stft_istft_once_warnings(monkeypatch):
    x = tg.randn(64)
    for call in (lambda: tg.stft(x, 16, return_complex=True), lambda: x.stft(16, return_complex=True)):
        monkeypatch.setattr(spectral_mod, "_ONCE_WARNED", set())
        with _here("window was not provided"):
            call()
    for call in (lambda: tg.stft(x, 16, window=tg.ones(16), return_complex=False),
                 lambda: x.stft(16, window=tg.ones(16), return_complex=False)):
        monkeypatch.setattr(spectral_mod, "_ONCE_WARNED", set())
        with _here("return_complex=False"):
            call()
    spec = tg.stft(x, 16, window=tg.ones(16), return_complex=True)
    for call in (lambda: tg.istft(spec, 16), lambda: spec.istft(16)):
        monkeypatch.setattr(spectral_mod, "_ONCE_WARNED", set())
        with _here("window was not provided"):
            call()
    for call in (lambda: tg.istft(spec, 16, window=tg.ones(16), length=200),
                 lambda: spec.istft(16, window=tg.ones(16), length=200)):
        monkeypatch.setattr(spectral_mod, "_LENGTH_WARNED", [False])
        with _here("shorter than the length"):
            call()


# --- distributions -----------------------------------------------------------------------------
def test_ambiguous_kl():
    D = tg.distributions

    class P(D.Normal):
        pass

    class Q(D.Normal):
        pass
    calls = []
    D.register_kl(P, D.Normal)(lambda p, q: calls.append("P") or tg.zeros(()))
    D.register_kl(D.Normal, Q)(lambda p, q: calls.append("Q") or tg.zeros(()))
    try:
        with _here("Ambiguous kl_divergence"):
            D.kl_divergence(P(0.0, 1.0), Q(0.0, 1.0))
    finally:
        kl_mod = sys.modules["tensorgan.distributions.kl"]
        for key in [(P, D.Normal), (D.Normal, Q)]:
            kl_mod._KL_REGISTRY.pop(key, None)
        getattr(kl_mod, "_KL_MEMOIZE", {}).clear()


def test_wishart_warnings(monkeypatch):
    D = tg.distributions
    with _here("Low df"):
        w = D.Wishart(df=tg.tensor(2.5), covariance_matrix=tg.eye(3))
    singular = tg.zeros(3, 3)
    monkeypatch.setattr(w, "_bartlett_sampling", lambda shape: singular + tg.zeros(tuple(shape) + (3, 3)))
    for call in (lambda: w.rsample(max_try_correction=0), lambda: w.sample()):
        with _here("Singular sample"):
            call()


# --- data, vision, utils -----------------------------------------------------------------------
def test_random_split_empty_part():
    with _here("Length of split at index"):
        tg.data.random_split(list(range(2)), [0.5, 0.5, 0.0])


def test_pin_memory_without_accelerator(monkeypatch):
    monkeypatch.setattr(sys.modules["tensorgan.accelerator"], "is_available", lambda: False)
    loader = tg.data.DataLoader(list(range(4)), batch_size=2, pin_memory=True)
    with _here("pin_memory"):
        iter(loader)
    with _here("pin_memory"):
        for _ in loader:
            pass


def test_vision_deprecations():
    import tensorgan.vision.models as models
    import tensorgan.vision.transforms as T
    with _here("transforms.Scale"):
        T.Scale(4)
    with _here("Scale and ratio"):
        T.RandomErasing(scale=(0.3, 0.02))
    with _here("pretrained"):
        models.resnet18(pretrained=False)
    for make in (models.Inception3, models.inception_v3):
        with _here("default weight initialization"), pytest.raises(Exception):
            make(inception_blocks=[])        # (warns, then refuses the blocks: nothing built)


def test_make_grid_range():
    with _here("value_range"):
        tg.utils.make_grid(tg.rand(2, 3, 4, 4), range=(0, 1))


def test_checkpoint_warnings():
    from tensorgan.utils.checkpoint import checkpoint, checkpoint_sequential
    x = tg.randn(2, 2)
    with _here("use_reentrant parameter"):
        checkpoint(lambda t: t * 2, _leaf(2))
    with _here("None of the inputs"):
        checkpoint(lambda t: t * 2, x, use_reentrant=True)
    seq = nn.Sequential(nn.ReLU(), nn.ReLU())
    with _here("use_reentrant parameter"):
        checkpoint_sequential(seq, 2, _leaf(2))
    with _here("None of the inputs"):
        checkpoint_sequential(seq, 2, x, use_reentrant=True)


def test_tensorboard_audio_clipped(tmp_path):
    from tensorgan.utils.tensorboard import SummaryWriter
    with SummaryWriter(str(tmp_path)) as writer:
        with _here("amplitude outside"):
            writer.add_audio("a", tg.tensor([0.0, 2.0]), sample_rate=8000)


def test_composite_schedulers():
    lr_scheduler = tg.optim.lr_scheduler
    for make in (lambda opt: lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2),
                                                            lr_scheduler.ExponentialLR(opt, 0.9)], [2]),
                 lambda opt: lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(opt, 2),
                                                            lr_scheduler.ExponentialLR(opt, 0.9)])):
        opt = tg.optim.SGD([_leaf(2)], lr=0.1)
        sched = make(opt)
        with _here("before"):
            sched.step()


def test_autocast_decorator_float32_note(monkeypatch):
    monkeypatch.setattr(sys.modules["tensorgan.amp"], "_warned_float32", [False])

    @tg.amp.autocast("cpu")
    def run():
        return 1
    with _here("runs in float32"):
        run()


def test_more_expanded_and_scalar_paths(monkeypatch):
    x = tg.zeros(1, 3).expand(2, 3)
    with _here("expanded tensors"):
        x.index_fill_(1, tg.tensor([0]), 1.0)
    with _here("expanded tensors"):
        x[tg.ones(2, 3, dtype=tg.bool)] = 1.0
    monkeypatch.setattr(tensor_mod, "_ONCE_WARNED", {})
    import math
    with _here("to a scalar"):
        math.sqrt(_leaf(1).abs())


def test_check_backward_validity():
    from tensorgan.utils.checkpoint import check_backward_validity
    with _here("None of the inputs"):
        check_backward_validity([tg.zeros(2)])


def test_pretrained_through_every_builder_shape():
    import tensorgan.vision.models as models
    for build in (models.resnet18, models.vgg11, models.squeezenet1_0):
        with _here("pretrained"), pytest.raises(TypeError):
            build(pretrained=False, no_such_argument=1)   # (warns, then refuses: nothing built)


def test_lazy_modules():
    for make in (lambda: nn.LazyConv2d(3, 2), lambda: nn.LazyBatchNorm1d(),
                 lambda: nn.LazyConvTranspose1d(2, 2)):
        with _here("Lazy modules"):
            make()


def test_evaluate_samples_few_images():
    with _here("covariance is singular"):
        tg.metrics.evaluate_samples(np.random.default_rng(0).random((4, 28, 28)).astype(np.float32))
