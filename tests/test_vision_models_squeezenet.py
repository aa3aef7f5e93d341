"""tensorgan.vision.models.squeezenet1_0 / squeezenet1_1: torchvision's SqueezeNet (parameter
counts as torchvision documents them, state_dict key / shape lists as torchvision's so converted
weights load with strict=True, ceil-mode pooling shapes, Fire modules, initialisation, the weights
API) -- and the ``features`` slicing LPIPS's ``squeeze`` trunk does."""
import hashlib
import math
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import CheckpointError, ConfigError
from tensorgan.vision import models as M


def _digest(model):
    text = "\n".join(f"{k}:{tuple(v.shape)}" for k, v in model.state_dict().items())
    return hashlib.sha256(text.encode()).hexdigest()[:16], len(model.state_dict())


@pytest.fixture(scope="module")
def nets():
    tg.manual_seed(0)
    return {"1_0": M.squeezenet1_0(), "1_1": M.squeezenet1_1()}


def test_parameter_counts_and_state_dict_keys_are_torchvisions(nets):
    counts = {"1_0": 1248424, "1_1": 1235496}          # torchvision's documented num_params
    digests = {"1_0": ("d028ebe5030ca989", 52), "1_1": ("d93224ce3d6af260", 52)}
    for v, m in nets.items():
        assert sum(p.numel() for p in m.parameters()) == counts[v]
        assert _digest(m) == digests[v], v
        assert M.get_model_weights("squeezenet" + v).DEFAULT.meta["num_params"] == counts[v]
    sd = nets["1_1"].state_dict()
    assert list(sd)[:6] == ["features.0.weight", "features.0.bias", "features.3.squeeze.weight",
                            "features.3.squeeze.bias", "features.3.expand1x1.weight",
                            "features.3.expand1x1.bias"]
    assert tuple(sd["features.12.expand3x3.weight"].shape) == (256, 64, 3, 3)
    assert tuple(sd["classifier.1.weight"].shape) == (1000, 512, 1, 1)
    assert tuple(nets["1_0"].state_dict()["features.0.weight"].shape) == (96, 3, 7, 7)
    assert [type(c).__name__ for c in nets["1_1"].classifier] == ["Dropout", "Conv2d", "ReLU",
                                                                 "AdaptiveAvgPool2d"]


def test_ceil_mode_pooling_gives_torchvisions_feature_shapes(nets):
    m = nets["1_1"].eval()
    # conv 3x3/2 (no padding) then three 3x3/2 ceil-mode max-pools: 17 -> 8 -> 4 -> 2 -> 1,
    # 23 -> 11 -> 5 -> 2 -> 1, 67 -> 33 -> 16 -> 8 -> 4 (floor mode would give 3), 224 -> 13
    for (h, w), out in {(17, 23): (1, 1), (67, 64): (4, 3), (224, 224): (13, 13)}.items():
        f = m.features(tg.zeros(1, 3, h, w))
        assert tuple(f.shape) == (1, 512) + out, (h, w)
    m0 = nets["1_0"].eval()     # conv 7x7/2: 21 -> 8 -> 4 -> 2 -> 1; 67 -> 31 -> 15 -> 7 -> 3
    assert tuple(m0.features(tg.zeros(1, 3, 21, 21)).shape) == (1, 512, 1, 1)
    assert tuple(m0.features(tg.zeros(1, 3, 67, 67)).shape) == (1, 512, 3, 3)
    y = m(tg.randn(2, 3, 33, 33, seed=1))
    assert tuple(y.shape) == (2, 1000) and float(y.min()) >= 0.0     # ReLU before the pool


def test_fire_concatenates_relu_expand1x1_and_expand3x3():
    tg.manual_seed(3)
    fire = M.Fire(8, 4, 5, 6)
    x = tg.randn(2, 8, 5, 7, seed=2)
    out = fire(x)
    assert tuple(out.shape) == (2, 11, 5, 7)
    s = np.maximum(fire.squeeze(x).numpy(), 0)
    e1 = np.einsum("oc,nchw->nohw", fire.expand1x1.weight.numpy()[:, :, 0, 0], s) \
        + fire.expand1x1.bias.numpy()[None, :, None, None]
    np.testing.assert_allclose(out.numpy()[:, :5], np.maximum(e1, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.numpy()[:, 5:],
                               np.maximum(fire.expand3x3(tg.tensor(s)).numpy(), 0), rtol=1e-5, atol=1e-6)
    assert fire.inplanes == 8


def test_initialisation_is_torchvisions(nets):
    m = nets["1_1"]
    final = m.classifier[1]
    assert abs(float(final.weight.std()) - 0.01) < 0.001
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            assert float(mod.bias.abs().max()) == 0.0
            if mod is final:
                continue
            w = mod.weight.numpy()
            fan_in = w.shape[1] * w.shape[2] * w.shape[3]
            bound = math.sqrt(2.0) * math.sqrt(3.0 / fan_in)   # kaiming_uniform_, a=0
            assert np.abs(w).max() <= bound
            if w.size > 2000:      # uniform on [-b, b]: std b / sqrt(3)
                assert abs(w.std() - bound / math.sqrt(3.0)) < 0.05 * bound


def test_lpips_squeeze_slices_give_its_channel_list(nets):
    feats = nets["1_1"].features
    bounds = [(0, 2), (2, 5), (5, 8), (8, 10), (10, 11), (11, 12), (12, 13)]
    h = tg.randn(1, 3, 64, 64, seed=4)
    chans = []
    for a, b in bounds:
        s = nn.Sequential()
        for i in range(a, b):
            s.add_module(str(i), feats[i])
        h = s(h)
        chans.append(h.shape[1])
    assert chans == [64, 128, 256, 384, 384, 512, 512]


def test_weights_api(nets, tmp_path):
    sd = {k: v.numpy() + 1.0 for k, v in nets["1_1"].state_dict().items()}
    m = M.squeezenet1_1(weights=sd)
    np.testing.assert_array_equal(m.features[0].weight.numpy(), sd["features.0.weight"])
    f = tmp_path / "sq.npz"
    np.savez(f, **sd)
    m2 = M.get_model("squeezenet1_1", weights=str(f))
    np.testing.assert_array_equal(m2.classifier[1].bias.numpy(), sd["classifier.1.bias"])
    with pytest.raises(CheckpointError, match="squeezenet1_0-b66bff10.pth"):
        M.squeezenet1_0(weights=M.SqueezeNet1_0_Weights.IMAGENET1K_V1)
    with pytest.raises(CheckpointError, match="convert"):
        M.squeezenet1_1(weights="DEFAULT")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CheckpointError):
            M.squeezenet1_1(pretrained=True)
    with pytest.raises(ConfigError, match="1_0 or 1_1"):
        M.SqueezeNet("1_2")
    assert tuple(M.squeezenet1_0(num_classes=7, dropout=0.2).classifier[1].weight.shape) == (7, 512, 1, 1)
    assert M.SqueezeNet1_1_Weights.DEFAULT.meta["min_size"] == (17, 17)
