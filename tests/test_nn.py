"""tensorgan.nn: module bookkeeping, state dicts, layers, initialization, input validation."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import CheckpointError, ConfigError, DTypeError, ShapeError


def small_net(seed=0):
    g = tg.Generator(seed)
    return nn.Sequential(nn.Linear(3, 8, generator=g), nn.BatchNorm1d(8), nn.LeakyReLU(0.2),
                         nn.Unflatten(1, (2, 2, 2)), nn.ConvTranspose2d(2, 3, 4, 2, 1, generator=g),
                         nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 1, 3, 1, 1, generator=g), nn.Tanh())


# -- bookkeeping ---------------------------------------------------------------------------------
def test_registration_names_children_and_modes():
    net = small_net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "5.weight",
                     "5.bias", "7.weight", "7.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == [
        "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "5.running_mean", "5.running_var", "5.num_batches_tracked"]
    assert len(list(net.children())) == 9 and len(list(net.modules())) == 10
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    assert "ConvTranspose2d(2, 3, kernel_size=(4, 4)" in repr(net)


def test_reassigning_an_attribute_unregisters_it():
    lin = nn.Linear(2, 2)
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    assert "bias=False" in repr(lin)


def test_zero_grad_and_backward_fill_all_parameter_grads():
    net = small_net()
    net(tg.randn(4, 3, seed=1)).sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# -- state dicts ---------------------------------------------------------------------------------
def test_state_dict_round_trip_includes_buffers_and_shares_memory():
    a, b = small_net(0), small_net(1)
    a(tg.randn(4, 3, seed=2))  # moves running stats and the counter
    sd = a.state_dict()
    assert sd["1.num_batches_tracked"].dtype == np.int64 and int(sd["1.num_batches_tracked"]) == 1
    assert not np.allclose(sd["1.running_mean"], 0)
    w = a[0].weight.numpy().copy()
    sd["0.weight"][...] = 0  # torch's: the entries share the module's memory
    assert np.all(a[0].weight.numpy() == 0) and not sd["0.weight"].requires_grad
    a[0].weight.data.copy_(tg.from_numpy(w))
    sd = a.state_dict()
    weight_before = b[0].weight
    b.load_state_dict(sd)
    assert b[0].weight is weight_before  # loaded in place (optimizers keep their references)
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, sd[k])
    a.eval(), b.eval()
    x = tg.randn(2, 3, seed=3)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_load_state_dict_errors_name_the_key_and_shapes_and_change_nothing():
    net = small_net()
    before = net.state_dict()
    sd = net.state_dict()
    del sd["5.running_var"]
    with pytest.raises(CheckpointError, match=r"1 missing key\(s\): '5.running_var'"):
        net.load_state_dict(sd)
    sd = net.state_dict()
    sd["extra.weight"] = np.zeros(1)
    with pytest.raises(CheckpointError, match=r"1 unexpected key\(s\): 'extra.weight'"):
        net.load_state_dict(sd)
    sd = net.state_dict()
    sd["0.weight"] = np.ones((8, 3))      # fine, and written only if everything passes
    sd["4.weight"] = np.zeros((2, 3, 3, 3))
    with pytest.raises(CheckpointError, match=r"'4.weight' has shape \(2, 3, 3, 3\).*\(2, 3, 4, 4\)"):
        net.load_state_dict(sd)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    missing, unexpected = net.load_state_dict({"0.weight": np.ones((8, 3)), "zzz": np.ones(2)}, strict=False)
    assert "0.bias" in missing and unexpected == ["zzz"]
    np.testing.assert_array_equal(net[0].weight.numpy(), np.ones((8, 3)))


# -- layers ---------------------------------------------------------------------------------------
def test_linear_conv_shapes_and_values():
    lin = nn.Linear(5, 2)
    x = tg.randn(3, 5, seed=0)
    np.testing.assert_allclose(lin(x).numpy(), x.numpy() @ lin.weight.numpy().T + lin.bias.numpy(),
                               rtol=1e-5, atol=1e-6)
    assert nn.Conv2d(3, 4, 4, 2, 1)(tg.randn(2, 3, 8, 8, seed=0)).shape == (2, 4, 4, 4)
    assert nn.ConvTranspose2d(4, 3, 4, 2, 1)(tg.randn(2, 4, 4, 4, seed=0)).shape == (2, 3, 8, 8)
    assert nn.ConvTranspose2d(4, 3, 3, 2, 1, output_padding=1)(tg.randn(1, 4, 4, 4, seed=0)).shape == (1, 3, 8, 8)
    assert nn.ConvTranspose2d(4, 3, 4).weight.shape == (4, 3, 4, 4)
    assert nn.Conv2d(4, 3, 4, bias=False).bias is None


@pytest.mark.parametrize("module, x, pattern", [
    (nn.Linear(4, 2), tg.zeros(3, 5), r"Linear\(in_features=4.*expected 4 .*\(3, 5\)"),
    (nn.Conv2d(3, 4, 3), tg.zeros(3, 5), r"Conv2d\(3, 4.*\(N, C, H, W\) or \(C, H, W\).*\(3, 5\)"),
    (nn.Conv2d(3, 4, 3), tg.zeros(2, 3, 5), r"Conv2d\(3, 4.*expected 3 input channels.*\(2, 3, 5\)"),
    (nn.Conv2d(3, 4, 3), tg.zeros(2, 1, 5, 5), r"Conv2d\(3, 4.*expected 3 input channels.*\(2, 1, 5, 5\)"),
    (nn.ConvTranspose2d(3, 4, 3), tg.zeros(2, 2, 5, 5), r"ConvTranspose2d.*expected 3"),
    (nn.BatchNorm2d(3), tg.zeros(2, 3), r"BatchNorm2d\(3.*\(N, C, H, W\)"),
    (nn.BatchNorm1d(3), tg.zeros(2, 4), r"BatchNorm1d\(3.*expected 3"),
    (nn.Unflatten(1, (2, 3)), tg.zeros(2, 5), r"Unflatten.*6 elements"),
])
def test_wrong_shapes_raise_shape_errors_naming_the_module(module, x, pattern):
    with pytest.raises(ShapeError, match=pattern):
        module(x)


def test_dtype_mismatch_is_a_clear_error_and_to_double_fixes_it():
    lin = nn.Linear(2, 2)
    x = tg.zeros(1, 2, dtype="float64")
    with pytest.raises(DTypeError, match="Linear.*float64.*float32"):
        lin(x)
    lin.double()
    assert lin(x).dtype == np.float64 and lin.weight.dtype == np.float64


def test_invalid_layer_hyperparameters():
    with pytest.raises(ConfigError):
        nn.Linear(-1, 2)       # (0 builds, as torch)
    with pytest.raises(ConfigError):
        nn.Conv2d(1, 2, 3, stride=0)
    with pytest.raises(ConfigError):
        nn.BatchNorm1d(2, momentum=1.5)
    with pytest.raises(ConfigError):
        nn.Dropout(1.2)


def test_batchnorm_running_stats_follow_the_pytorch_formula():
    bn = nn.BatchNorm2d(2, momentum=0.3)
    x = tg.randn(4, 2, 3, 3, seed=5)
    y = bn(x).numpy()
    xs = x.numpy()
    mean, var = xs.mean(axis=(0, 2, 3)), xs.var(axis=(0, 2, 3))
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.3 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.7 + 0.3 * var * 36 / 35, rtol=1e-5)
    np.testing.assert_allclose(y, (xs - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5), atol=1e-5)
    bn.eval()
    rm, rv = bn.running_mean.numpy(), bn.running_var.numpy()
    np.testing.assert_allclose(bn(x).numpy(), (xs - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-5),
                               atol=1e-5)
    np.testing.assert_array_equal(bn.running_mean.numpy(), rm)  # eval leaves the stats alone
    assert int(bn.num_batches_tracked) == 1


def test_batchnorm_cumulative_average_when_momentum_is_none():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [tg.randn(5, 2, seed=s) for s in range(3)]
    for b in batches:
        bn(b)
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([b.numpy().mean(0) for b in batches], 0),
                               rtol=1e-5, atol=1e-6)


# -- Sequential runs BatchNorm + LeakyReLU as one fused op --------------------------------------------
@pytest.mark.parametrize("four_d", [False, True], ids=["BatchNorm1d", "BatchNorm2d"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_sequential_fuses_batchnorm_leaky_relu_with_the_same_results(four_d, training, monkeypatch):
    shape = (4, 3, 5, 5) if four_d else (6, 3)
    results = {}
    for fuse in (True, False):
        monkeypatch.setattr(nn.Sequential, "fuse_batch_norm_activation", fuse)
        bn = nn.BatchNorm2d(3, momentum=0.3) if four_d else nn.BatchNorm1d(3, momentum=0.3)
        net = nn.Sequential(bn, nn.LeakyReLU(0.2)).double()
        bn.weight.array[...] = [1.5, 0.5, -0.7]
        bn.bias.array[...] = [0.1, -0.2, 0.3]
        bn.running_mean.array[...] = [0.2, -0.1, 0.0]
        net.train(training)
        x = tg.randn(*shape, seed=3, dtype="float64", requires_grad=True)
        y = net(x)
        assert type(y._ctx).__name__ == ("BatchNormLeakyReLU" if fuse else "LeakyReLU")
        y.backward(tg.randn(*shape, seed=4, dtype="float64"))
        state = {k: v.numpy() if hasattr(v, "numpy") else np.asarray(v)
                 for k, v in net.state_dict().items()}
        results[fuse] = dict(y=y.numpy(), gx=x.grad.numpy(), gw=bn.weight.grad.numpy(),
                             gb=bn.bias.grad.numpy(), **state)
        assert list(net.state_dict()) == ["0.weight", "0.bias", "0.running_mean", "0.running_var",
                                          "0.num_batches_tracked"]
        assert len(net) == 2 and isinstance(net[1], nn.LeakyReLU)   # the module list is unchanged
    assert results[True].keys() == results[False].keys()
    for key, value in results[True].items():
        np.testing.assert_allclose(value, results[False][key], rtol=1e-12, atol=1e-12, err_msg=key)


def test_sequential_fuses_only_an_immediate_batchnorm_leaky_relu_pair():
    net = nn.Sequential(nn.BatchNorm1d(2), nn.Identity(), nn.LeakyReLU(0.2))
    assert type(net(tg.randn(4, 2, seed=0, requires_grad=True))._ctx).__name__ == "LeakyReLU"
    net = nn.Sequential(nn.LeakyReLU(0.2), nn.BatchNorm1d(2))
    assert type(net(tg.randn(4, 2, seed=0, requires_grad=True))._ctx).__name__ == "BatchNorm"
    net = nn.Sequential(nn.BatchNorm1d(2), nn.LeakyReLU(0.2))
    net.fuse_batch_norm_activation = False                       # per instance, too
    assert type(net(tg.randn(4, 2, seed=0, requires_grad=True))._ctx).__name__ == "LeakyReLU"


def test_dropout_is_seeded_scaled_and_off_in_eval():
    x = tg.ones(200, 50)
    a = nn.Dropout(0.25, tg.Generator(3))(x).numpy()
    b = nn.Dropout(0.25, tg.Generator(3))(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.75)}
    assert abs((a == 0).mean() - 0.25) < 0.02
    d = nn.Dropout(0.25).eval()
    assert d(x) is x


def test_flatten_unflatten_sequential():
    x = tg.randn(2, 3, 4, 5, seed=0)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    seq = nn.Sequential(nn.Flatten(), nn.Linear(60, 2))
    assert len(seq) == 2 and isinstance(seq[1], nn.Linear) and list(seq)[0] is seq[0]
    assert seq(x).shape == (2, 2)
    with pytest.raises(TypeError):
        nn.Sequential(nn.Flatten(), 3)


# -- initialization ------------------------------------------------------------------------------
def test_default_init_matches_pytorch_bounds():
    lin = nn.Linear(400, 300, generator=tg.Generator(0))
    bound = 1 / math.sqrt(400)
    w = lin.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert np.abs(lin.bias.numpy()).max() <= bound
    ct = nn.ConvTranspose2d(16, 8, 4, generator=tg.Generator(0))  # fan_in = dim 1 * k*k = 8 * 16
    assert 0.95 / math.sqrt(128) < np.abs(ct.weight.numpy()).max() <= 1 / math.sqrt(128)
    a = nn.Conv2d(3, 4, 3, generator=tg.Generator(7)).weight.numpy()
    b = nn.Conv2d(3, 4, 3, generator=tg.Generator(7)).weight.numpy()
    np.testing.assert_array_equal(a, b)


def test_init_functions():
    t = tg.zeros(300, 200)
    nn.init.normal_(t, 1.0, 0.02, generator=tg.Generator(0))
    assert abs(t.numpy().mean() - 1.0) < 1e-3 and abs(t.numpy().std() - 0.02) < 1e-3
    nn.init.xavier_uniform_(t, generator=tg.Generator(0))
    assert np.abs(t.numpy()).max() <= math.sqrt(6 / 500)
    nn.init.kaiming_uniform_(t, a=0, generator=tg.Generator(0))
    assert np.abs(t.numpy()).max() <= math.sqrt(2) * math.sqrt(3 / 200)
    nn.init.uniform_(t, -2, -1, generator=tg.Generator(0))
    assert t.numpy().min() >= -2 and t.numpy().max() <= -1
    nn.init.zeros_(t)
    assert not t.numpy().any()
    nn.init.ones_(t)
    assert (t.numpy() == 1).all()


# -- gradients through whole modules (float64) ------------------------------------------------------
def test_gradcheck_through_a_module_stack():
    net = small_net(4).double()
    x = tg.randn(3, 3, seed=9, dtype="float64", requires_grad=True)
    params = [net[0].weight, net[4].weight, net[5].weight, net[7].bias]

    def f(x, *ps):
        return net(x)

    tg.gradcheck(f, [x] + params, atol=1e-5, rtol=1e-3)


def test_module_to_device_keeps_parameter_identity():
    lin = nn.Linear(2, 2)
    w = lin.weight
    assert lin.to("cpu") is lin and lin.weight is w and str(lin.device) == "cpu"


def test_device_mismatch_is_a_clear_error():
    # Under the test suite's CUDA simulator 'cuda' exists (NumPy arrays, simulated kernels).
    from tensorgan.errors import DeviceError
    try:
        tg.get_device("cuda")
    except DeviceError:
        pytest.skip("no cuda device, real or simulated")
    lin = nn.Linear(2, 2).to("cuda")
    assert lin.weight.device.type == "cuda" and lin.bias.device.type == "cuda"
    with pytest.raises(DeviceError, match=r"Linear\(.*input is on cpu.*cuda"):
        lin(tg.zeros(1, 2))
    bn = nn.BatchNorm1d(2, affine=False).to("cuda")
    assert bn.running_mean.device.type == "cuda"
    with pytest.raises(DeviceError, match="BatchNorm1d"):
        bn(tg.zeros(3, 2))


# -- copies, modes, torch-compatible extras ------------------------------------------------------
def test_deepcopy_makes_an_independent_model_with_equal_values():
    import copy
    G = small_net()
    G_ema = copy.deepcopy(G)                       # the EMA-generator idiom
    for (name, p), (name_c, q) in zip(G.named_parameters(), G_ema.named_parameters()):
        assert name == name_c and q is not p and q.array is not p.array
        assert isinstance(q, nn.Parameter) and q.requires_grad and q.device is p.device
        np.testing.assert_array_equal(q.numpy(), p.numpy())
    G_ema[0].weight.array[...] = 7.0                # updating the copy leaves the original alone
    assert not np.any(G[0].weight.numpy() == 7.0)
    G[7].bias.array[...] = -3.0
    assert not np.any(G_ema[7].bias.numpy() == -3.0)


def test_pickle_round_trip_gives_the_same_outputs_and_the_same_device_object():
    import pickle
    net = nn.Sequential(nn.Linear(3, 4, generator=tg.Generator(0)), nn.BatchNorm1d(4), nn.LeakyReLU(0.2))
    net(tg.randn(5, 3, seed=1))                    # non-trivial running statistics
    copy_ = pickle.loads(pickle.dumps(net))
    assert copy_[0].weight.device is net[0].weight.device is tg.get_device("cpu")
    net.eval(), copy_.eval()
    x = tg.randn(4, 3, seed=2)
    np.testing.assert_array_equal(copy_(x).numpy(), net(x).numpy())
    assert pickle.loads(pickle.dumps(tg.get_device("cpu"))) is tg.get_device("cpu")


def test_train_goes_through_each_childs_own_train():
    class FrozenBatchNorm(nn.BatchNorm1d):         # "keep BatchNorm frozen" idiom
        def train(self, mode=True):
            return super().train(False)

    inner = nn.Sequential(nn.Linear(2, 2), FrozenBatchNorm(2))
    net = nn.Sequential(inner, nn.ReLU())
    net.train()
    assert net.training and inner.training and net[1].training
    assert not inner[1].training
    net.eval()
    assert not any(m.training for m in net.modules())


def test_dropout_takes_torchs_inplace_and_a_generator_positionally_or_by_keyword():
    from tensorgan.errors import InputTypeError
    x = tg.ones(50, 40)
    assert repr(nn.Dropout(0.5, True)) == "Dropout(p=0.5, inplace=True)"
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    out = nn.Dropout(0.5, inplace=True)(x.clone())    # written into its input, as torch's
    assert set(np.unique(out.numpy())) <= {0.0, 2.0} and np.all(x.numpy() == 1.0)
    assert nn.Dropout(0.5, inplace=True)(x) is x and set(np.unique(x.numpy())) <= {0.0, 2.0}
    x = tg.ones(50, 40)
    a = nn.Dropout(0.25, tg.Generator(3))(x).numpy()
    b = nn.Dropout(0.25, generator=tg.Generator(3))(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert nn.Dropout(0.25, None).inplace is False  # older call sites pass generator=None
    for bad in ("yes", 1, np.random.default_rng(0)):
        with pytest.raises(InputTypeError, match="Dropout"):
            nn.Dropout(0.5, bad)
    with pytest.raises(InputTypeError, match="generator"):
        nn.Dropout(0.5, generator="seed")


def test_conv_transpose_repr_shows_a_nonzero_output_padding():
    assert "output_padding=(1, 1)" in repr(nn.ConvTranspose2d(2, 3, 3, 2, 1, 1))
    assert "output_padding" not in repr(nn.ConvTranspose2d(2, 3, 3, 2, 1))


def test_load_state_dict_lists_every_missing_and_unexpected_key():
    net = small_net()
    sd = net.state_dict()
    del sd["0.bias"], sd["5.running_var"]
    sd["extra.weight"], sd["extra.bias"] = np.zeros(1), np.zeros(1)
    with pytest.raises(CheckpointError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert "2 missing key(s): '0.bias', '5.running_var'" in msg
    assert "2 unexpected key(s): 'extra.weight', 'extra.bias'" in msg


def test_l1_and_cross_entropy_loss_modules():
    from tensorgan.errors import ConfigError as CE
    x = tg.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    y = np.array([[0.0, 1.0], [0.5, 1.0]])
    loss = nn.L1Loss()(x, y)                       # |1| + |-3| + 0 + |2| = 6, over 4
    assert loss.item() == pytest.approx(1.5)
    loss.backward()                                # sign(x - y) / 4, and 0 where x == y
    np.testing.assert_array_equal(x.grad.numpy(), [[0.25, -0.25], [0.0, 0.25]])
    assert nn.L1Loss(reduction="sum")(x, y).item() == pytest.approx(6.0)
    np.testing.assert_allclose(nn.L1Loss(reduction="none")(x, y).numpy(), [[1, 3], [0, 2]])
    logits = tg.tensor([[0.0, 0.0, 0.0], [math.log(3.0), 0.0, 0.0]])
    # row 0: uniform, -log(1/3); row 1: class 0 has probability 3/5 -> -log(3/5)
    got = nn.CrossEntropyLoss()(logits, np.array([2, 0])).item()
    assert got == pytest.approx((math.log(3.0) - math.log(0.6)) / 2, rel=1e-6)
    with pytest.raises(CE, match="label_smoothing must be in"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


def test_pooling_modules():
    x = tg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).numpy(), [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(nn.AvgPool2d(2, stride=2)(x).numpy(), [[[[2.5, 4.5], [10.5, 12.5]]]])
    assert repr(nn.MaxPool2d(2)) == ("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                     "ceil_mode=False)")                 # torch's repr
    assert repr(nn.AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    np.testing.assert_array_equal(nn.MaxPool2d(3, stride=2, padding=1)(x).numpy(),
                                  [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d(1)(x).numpy(), [[[[7.5]]]])
    np.testing.assert_array_equal(nn.AdaptiveMaxPool2d((1, None))(x).numpy(), [[[[12, 13, 14, 15]]]])
    with pytest.raises(ConfigError, match="AvgPool2d: padding must be at most half"):
        nn.AvgPool2d(3, stride=2, padding=2)                  # refused when the layer is built
    assert nn.MaxPool2d(2, return_indices=True)(tg.ones(1, 1, 2, 2))[1].dtype == tg.int64
    with pytest.raises(ConfigError, match="AdaptiveAvgPool2d: output_size"):
        nn.AdaptiveAvgPool2d(-1)                                # (0: an empty output, as torch's)


def test_module_dict():
    from tensorgan.errors import InputTypeError
    d = nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.ReLU()})
    d["dec"] = nn.Linear(3, 1)
    assert list(d) == ["enc", "act", "dec"] and len(d) == 3 and "act" in d
    assert list(d.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert d["enc"] is d.enc and [n for n, _ in d.items()] == list(d.keys())
    d.eval()
    assert not d["act"].training
    assert isinstance(d.pop("act"), nn.ReLU) and list(d.keys()) == ["enc", "dec"]
    with pytest.raises(KeyError, match="'act'"):
        d["act"]
    with pytest.raises(ConfigError, match="'keys'"):
        d["keys"] = nn.ReLU()                      # would hide the method
    with pytest.raises(InputTypeError):
        d["x"] = lambda t: t
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []


def test_cpu_alias_and_reset_parameters():
    lin = nn.Linear(4, 3, generator=tg.Generator(0))
    w = lin.weight
    assert lin.cpu() is lin and lin.weight is w and lin.weight.device is tg.get_device("cpu")
    with pytest.raises(tg.errors.DeviceError, match="cuda:1"):
        lin.cuda(1)                                   # one CUDA device only, as .to("cuda:1")
    for layer in (lin, nn.Conv2d(2, 3, 3), nn.ConvTranspose2d(3, 2, 4)):
        for p in layer.parameters():
            p.array[...] = 100.0
        layer.reset_parameters()
        fan_in = layer.weight.shape[1] * int(np.prod(layer.weight.shape[2:]))
        bound = 1 / math.sqrt(fan_in)                 # kaiming_uniform(a=sqrt(5)) and the bias bound
        assert np.all(np.abs(layer.weight.numpy()) <= bound) and np.all(np.abs(layer.bias.numpy()) <= bound)
        assert np.unique(layer.weight.numpy()).size > 1
    a, b = nn.Linear(4, 3), nn.Linear(4, 3)
    a.reset_parameters(generator=tg.Generator(5))
    b.reset_parameters(tg.Generator(5))
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())


def test_forward_hooks_see_inputs_and_outputs_and_can_replace_them():
    m = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2))
    seen = []
    handle = m[0].register_forward_hook(lambda mod, inputs, out: seen.append((mod, out.shape)))
    m(tg.ones(4, 2))
    handle.remove()
    m(tg.ones(4, 2))
    assert seen == [(m[0], (4, 3))]                       # once: removed after the first call
    m[0].register_forward_pre_hook(lambda mod, inputs: inputs[0] * 0.0)   # zero the input
    out = m[0](tg.ones(1, 2))
    assert np.allclose(out.numpy(), m[0].bias.numpy())
    m[1].register_forward_hook(lambda mod, inputs, out: out * 0.0)
    assert m(tg.ones(1, 2)).tolist() == [[0.0, 0.0, 0.0]]
    with pytest.raises(tg.InputTypeError, match="function"):
        m.register_forward_hook("not callable")


@pytest.mark.parametrize("make, dim", [(lambda: nn.Linear(5, 4, dtype="float64"), 0),
                                       (lambda: nn.Conv2d(3, 6, 3, dtype="float64"), 0),
                                       (lambda: nn.ConvTranspose2d(3, 6, 4, 2, 1, dtype="float64"), 1)])
def test_spectral_norm_divides_by_the_largest_singular_value(make, dim):
    from tensorgan.nn.utils import spectral_norm
    tg.manual_seed(0)
    layer = spectral_norm(make())
    assert [k for k in layer.state_dict() if k.startswith("weight")] == ["weight_orig", "weight_u", "weight_v"]
    # a clear gap between the two largest singular values, so 100 power iterations converge
    w = layer.weight_orig.array
    matrix = np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)
    left, s, right = np.linalg.svd(matrix, full_matrices=False)
    s[0] = 2.0 * s[1]
    w[...] = np.moveaxis((left * s @ right).reshape(np.moveaxis(w, dim, 0).shape), 0, dim)
    x = tg.tensor(np.random.default_rng(0).random((2, 5) if isinstance(layer, nn.Linear) else (2, 3, 5, 5)))
    for _ in range(100):                      # one power iteration per training forward
        layer(x)
    sigma = s[0]                              # NumPy's SVD, not the power iteration
    assert np.allclose(layer.weight.numpy(), w / sigma, atol=1e-8)
    layer.eval()
    u = layer.weight_u.numpy().copy()
    layer(x)
    assert np.array_equal(u, layer.weight_u.numpy())        # eval: u and v stay
    xg = tg.tensor(x.numpy(), requires_grad=True)
    assert tg.gradcheck(lambda w_, x_: (layer(x_) ** 2).sum(), [layer.weight_orig, xg])
    with pytest.raises(tg.ConfigError, match="no parameter 'kernel'"):
        spectral_norm(nn.Linear(2, 2), name="kernel")
    with pytest.raises(tg.ConfigError, match="already spectrally normalized"):
        spectral_norm(layer)
    with pytest.raises(tg.ConfigError, match="out of range"):
        spectral_norm(nn.Linear(2, 2), dim=2)


def test_remove_spectral_norm_keeps_what_the_layer_computes_in_eval_mode():
    from tensorgan.nn.utils import remove_spectral_norm, spectral_norm
    tg.manual_seed(0)
    layer = spectral_norm(nn.Conv2d(3, 4, 3, dtype="float64"))
    x = tg.tensor(np.random.default_rng(1).random((2, 3, 5, 5)))
    for _ in range(3):
        layer(x)                              # training forwards move u and v
    layer.eval()
    expected = layer(x).numpy()
    assert remove_spectral_norm(layer) is layer
    assert sorted(layer.state_dict()) == ["bias", "weight"]
    assert isinstance(layer.weight, nn.Parameter) and not layer._forward_pre_hooks
    layer.train()                             # no power iteration any more, in either mode
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-12)
    layer(x).sum().backward()
    assert layer.weight.grad is not None
    with pytest.raises(tg.ConfigError, match="is not spectrally normalized"):
        remove_spectral_norm(layer)


def test_spectral_norm_keeps_each_graphs_u_and_v_across_two_forwards():
    """D(real) and D(fake) before one backward: the second forward's power iteration must not
    change the vectors the first graph's sigma used."""
    from tensorgan.nn.utils import spectral_norm
    tg.manual_seed(1)
    layer = spectral_norm(nn.Linear(4, 3, dtype="float64"))
    x1, x2 = (tg.tensor(np.random.default_rng(i).random((2, 4))) for i in (1, 2))
    u0, v0 = layer.weight_u.numpy().copy(), layer.weight_v.numpy().copy()
    (layer(x1) ** 2).sum().backward()
    (layer(x2) ** 3).sum().backward()
    separate = layer.weight_orig.grad.numpy().copy()
    layer.weight_orig.grad = None
    layer.weight_u.array[...], layer.weight_v.array[...] = u0, v0
    ((layer(x1) ** 2).sum() + (layer(x2) ** 3).sum()).backward()   # both graphs, one backward
    assert np.allclose(layer.weight_orig.grad.numpy(), separate, rtol=1e-12, atol=1e-14)


def test_hooks_on_a_batch_norm_leaky_relu_pair_fire():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2))
    seen = []
    m[1].register_forward_hook(lambda mod, inputs, out: seen.append("bn"))
    m[2].register_forward_hook(lambda mod, inputs, out: out * 0.0)
    assert m(tg.ones(2, 3)).tolist() == [[0.0] * 4] * 2 and seen == ["bn"]


def test_embedding_gathers_rows_and_adds_the_gradients_of_repeated_indices():
    emb = nn.Embedding(10, 3, dtype="float64")
    w = emb.weight.numpy()
    out = emb(np.array([[1, 1], [4, 0]]))
    assert out.shape == (2, 2, 3) and np.array_equal(out.numpy()[0, 1], w[1])
    (out * tg.tensor(np.arange(12.0).reshape(2, 2, 3))).sum().backward()
    grad = emb.weight.grad.numpy()
    assert np.array_equal(grad[1], [0 + 3, 1 + 4, 2 + 5]) and np.array_equal(grad[0], [9, 10, 11])
    assert np.array_equal(grad[2], [0, 0, 0])
    with pytest.raises(tg.IndexDTypeError, match="float32"):     # a float tensor, as torch's
        emb(tg.tensor([3.0]))
    assert tg.gradcheck(lambda weight: emb([2, 2, 7]).sum(axis=0), [emb.weight])
    for bad in ([10], [-1], [1.5]):
        with pytest.raises(tg.InputTypeError, match=r"whole numbers in \[0, 10\)"):
            emb(bad)


def test_embedding_padding_idx_row_starts_at_zero_and_gets_no_gradient():
    emb = nn.Embedding(5, 2, padding_idx=-1, dtype="float64")      # -1: row 4, as torch
    assert emb.padding_idx == 4 and not emb.weight.numpy()[4].any()
    emb.weight.array[4] = 7.0                                          # forward still reads it
    out = emb(np.array([4, 1, 4]))
    np.testing.assert_array_equal(out.numpy()[0], [7.0, 7.0])
    (out * 3.0).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[[4, 1]], [[0, 0], [3, 3]])
    assert "padding_idx=4" in repr(emb)
    with pytest.raises(tg.ConfigError, match="padding_idx must be an int in"):
        nn.Embedding(5, 2, padding_idx=5)
