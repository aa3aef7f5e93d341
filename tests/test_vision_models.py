"""tensorgan.vision.models: torchvision's architectures (parameter counts as torchvision
documents them, state_dict key / shape lists as torchvision's, so converted weights load with
strict=True), their initialisation, train / eval behaviour, feature slicing, and the weights
API (file / URL / state_dict accepted; torchvision's enums and pretrained=True refused)."""
import hashlib
import math
import warnings

import numpy as np
import pytest
from PIL import Image

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import CheckpointError, ConfigError, InputTypeError
from tensorgan.vision import models as M
from tensorgan.vision.models.vgg import cfgs, make_layers
from tensorgan.vision.transforms._presets import ImageClassification


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _digest(model):
    """sha256 (16 hex digits) of the ``name:shape`` lines of the state_dict, in order."""
    text = "\n".join(f"{k}:{tuple(v.shape)}" for k, v in model.state_dict().items())
    return hashlib.sha256(text.encode()).hexdigest()[:16], len(model.state_dict())


# torchvision's state_dict key lists (name and shape of each entry, in order), as digests
TORCHVISION_KEYS = {
    "alexnet": ("7cf57469ad654ca3", 16),
    "resnet18": ("3e58b0798c806a0c", 122),
    "resnet34": ("97e365907d64da74", 218),
    "resnet50": ("781bb16f43b8f96f", 320),
    "resnet101": ("708e8813e2eb3461", 626),
    "resnet152": ("9e3321003337a848", 932),
    "inception_v3": ("f17cfe285ae35639", 580),
    "vgg11": ("5e6ee14c22dc415d", 22), "vgg11_bn": ("96ee5d41fde5cc7f", 62),
    "vgg13": ("054bce641758c677", 26), "vgg13_bn": ("98a0a0f25977c5dd", 76),
    "vgg16": ("77334610293d95e2", 32), "vgg16_bn": ("a463166a74dc0850", 97),
    "vgg19": ("b4eb1243614e83cf", 38), "vgg19_bn": ("e6e7b876b32ca010", 118),
}

# torchvision's documented num_params (the weight enums' meta)
NUM_PARAMS = {"resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032,
              "resnet101": 44549160, "resnet152": 60192808, "alexnet": 61100840}


@pytest.fixture(scope="module")
def resnets():
    return {name: getattr(M, name)() for name in NUM_PARAMS if name.startswith("resnet")}


def test_resnet_and_alexnet_parameter_counts_and_keys_are_torchvisions(resnets):
    models = dict(resnets, alexnet=M.alexnet())
    for name, model in models.items():
        assert _count(model) == NUM_PARAMS[name], name
        assert _digest(model) == TORCHVISION_KEYS[name], name
        assert get_enum(name).DEFAULT.meta["num_params"] == NUM_PARAMS[name]
    sd = models["resnet18"].state_dict()
    assert list(sd)[:7] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                            "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight"]
    assert tuple(sd["layer2.0.downsample.0.weight"].shape) == (128, 64, 1, 1)
    assert tuple(sd["fc.weight"].shape) == (1000, 512)
    assert tuple(models["resnet50"].state_dict()["layer4.2.conv3.weight"].shape) == (2048, 512, 1, 1)
    assert isinstance(models["resnet50"].layer1[0], M.Bottleneck)
    assert isinstance(models["resnet34"].layer3[5], M.BasicBlock)


def get_enum(name):
    return M.get_model_weights(name)


def test_vgg_parameter_counts_and_layout():
    # the classifier is the same for every VGG: 25088 -> 4096 -> 4096 -> 1000
    classifier = (25088 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)
    documented = {("A", False): 132863336, ("A", True): 132868840, ("B", False): 133047848,
                  ("B", True): 133053736, ("D", False): 138357544, ("D", True): 138365992,
                  ("E", False): 143667240, ("E", True): 143678248}
    for (cfg, bn), n in documented.items():
        features = make_layers(cfgs[cfg], batch_norm=bn)
        assert _count(features) + classifier == n, (cfg, bn)
        depth = {"A": 11, "B": 13, "D": 16, "E": 19}[cfg]
        name = f"vgg{depth}" + ("_bn" if bn else "")
        assert get_enum(name).IMAGENET1K_V1.meta["num_params"] == n
        # the key list VGG(features) has: features.*, then the classifier's three Linears
        lines = [f"features.{k}:{tuple(v.shape)}" for k, v in features.state_dict().items()]
        lines += ["classifier.0.weight:(4096, 25088)", "classifier.0.bias:(4096,)",
                  "classifier.3.weight:(4096, 4096)", "classifier.3.bias:(4096,)",
                  "classifier.6.weight:(1000, 4096)", "classifier.6.bias:(1000,)"]
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
        assert (digest, len(lines)) == TORCHVISION_KEYS[name], name
    model = M.vgg16()
    assert _count(model) == 138357544
    assert _digest(model) == TORCHVISION_KEYS["vgg16"]
    sd = model.state_dict()
    assert len(sd) == 32 and list(sd)[:2] == ["features.0.weight", "features.0.bias"]
    assert tuple(sd["features.28.weight"].shape) == (512, 512, 3, 3)
    assert tuple(sd["classifier.6.weight"].shape) == (1000, 4096)
    assert [k for k in sd if k.startswith("classifier")] == [
        "classifier.0.weight", "classifier.0.bias", "classifier.3.weight", "classifier.3.bias",
        "classifier.6.weight", "classifier.6.bias"]
    # torchvision's init: kaiming-normal(fan_out) convs, N(0, 0.01) linears, zero biases
    w = model.features[2].weight.numpy()
    assert abs(w.std() / math.sqrt(2.0 / (64 * 9)) - 1) < 0.03
    assert abs(model.classifier[3].weight.numpy().std() / 0.01 - 1) < 0.01
    assert not model.features[0].bias.numpy().any() and not model.classifier[6].bias.numpy().any()
    bn = make_layers(cfgs["A"], batch_norm=True)
    assert [type(m).__name__ for m in bn[:4]] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]


def test_vgg19_features_slice_is_the_relu5_4_input_stack():
    features = make_layers(cfgs["E"])
    assert len(features) == 37
    head = features[:35]
    assert isinstance(head, nn.Sequential) and len(head) == 35
    assert isinstance(head[34], nn.Conv2d) and head[34].in_channels == 512      # conv5_4
    assert head[34] is features[34]                                              # shared, not copied
    assert sum(isinstance(m, nn.MaxPool2d) for m in head) == 4
    x = tg.randn(1, 3, 32, 32)
    y = head(x)
    assert tuple(y.shape) == (1, 512, 2, 2)
    z = x
    for m in list(features)[:35]:
        z = m(z)
    np.testing.assert_array_equal(y.numpy(), z.numpy())


def test_resnet_forward_shapes_options_and_init(resnets):
    model = resnets["resnet18"].eval()
    assert tuple(model(tg.randn(2, 3, 32, 32)).shape) == (2, 1000)
    small = M.resnet18(num_classes=10, zero_init_residual=True)
    assert tuple(small.fc.weight.shape) == (10, 512)
    for block in (m for m in small.modules() if isinstance(m, M.BasicBlock)):
        assert not block.bn2.weight.numpy().any() and (block.bn1.weight.numpy() == 1).all()
    r50 = M.resnet50(zero_init_residual=True)
    for block in (m for m in r50.modules() if isinstance(m, M.Bottleneck)):
        assert not block.bn3.weight.numpy().any() and (block.bn2.weight.numpy() == 1).all()
    # a zero-initialised residual branch: each block is relu(x + downsample(x)); with a fresh
    # BN in eval mode (mean 0, var 1) a block without downsample is relu(x) = x for x >= 0
    block = small.layer1[0].eval()
    x = tg.rand(1, 64, 8, 8)
    np.testing.assert_allclose(block(x).numpy(), x.numpy(), rtol=0, atol=0)
    w = resnets["resnet34"].layer2[1].conv1.weight.numpy()
    assert abs(w.std() / math.sqrt(2.0 / (128 * 9)) - 1) < 0.03      # kaiming-normal, fan_out
    gn = M.resnet18(norm_layer=lambda c: nn.GroupNorm(8, c), num_classes=4)
    assert isinstance(gn.layer3[0].bn1, nn.GroupNorm) and isinstance(gn.layer3[0].downsample[1], nn.GroupNorm)
    assert tuple(gn(tg.randn(1, 3, 32, 32)).shape) == (1, 4)
    dil = M.resnet50(replace_stride_with_dilation=[False, True, True], num_classes=3).eval()
    assert dil.layer4[1].conv2.dilation == (4, 4) and dil.layer4[0].downsample[0].stride == (1, 1)
    assert tuple(dil(tg.randn(1, 3, 64, 64)).shape) == (1, 3)
    with pytest.raises(ConfigError, match="BasicBlock only supports groups=1"):
        M.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1"):
        M.resnet18(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ConfigError, match="3-element"):
        M.resnet18(replace_stride_with_dilation=[True])


def test_alexnet_shapes_and_dropout_in_train_mode():
    model = M.alexnet(num_classes=7)
    x = tg.randn(2, 3, 63, 63)        # torchvision's min_size
    assert tuple(model.features(x).shape) == (2, 256, 1, 1)
    model.eval()
    a, b = model(x).numpy(), model(x).numpy()
    np.testing.assert_array_equal(a, b)
    model.train()
    assert not np.array_equal(model(x).numpy(), model(x).numpy())     # dropout draws


@pytest.fixture(scope="module")
def inception():
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # init_weights=True given: no FutureWarning
        return M.inception_v3(init_weights=True)


def test_inception_v3_parameters_keys_and_init(inception):
    assert _count(inception) == 27161264 == M.Inception_V3_Weights.DEFAULT.meta["num_params"]
    sd = inception.state_dict()
    assert _digest(inception) == TORCHVISION_KEYS["inception_v3"]
    assert tuple(sd["Conv2d_1a_3x3.conv.weight"].shape) == (32, 3, 3, 3)
    assert "Conv2d_1a_3x3.conv.bias" not in sd
    assert tuple(sd["AuxLogits.fc.weight"].shape) == (1000, 768)
    assert tuple(sd["Mixed_7c.branch3x3dbl_3b.conv.weight"].shape) == (384, 384, 3, 1)
    assert tuple(sd["fc.weight"].shape) == (1000, 2048)
    assert inception.Mixed_5b.branch1x1.bn.eps == 0.001
    # truncated normals in [-2, 2]: std 0.1, but 0.001 for AuxLogits.fc (its ``stddev``);
    # AuxLogits.conv1's ``stddev = 0.01`` sits on the BasicConv2d, not on the Conv2d the init
    # loop visits, so in torchvision that conv gets 0.1 as well
    w = inception.Mixed_6b.branch7x7_2.conv.weight.numpy()
    assert abs(w.std() / 0.1 - 1) < 0.02 and np.abs(w).max() <= 2
    assert inception.AuxLogits.conv1.stddev == 0.01
    assert abs(inception.AuxLogits.conv1.conv.weight.numpy().std() / 0.1 - 1) < 0.02
    assert abs(inception.AuxLogits.fc.weight.numpy().std() / 0.001 - 1) < 0.02
    with pytest.warns(FutureWarning, match="init_weights=True"):
        M.Inception3(num_classes=2, aux_logits=False, init_weights=None)
    no_aux = M.inception_v3(aux_logits=False, init_weights=False)
    assert no_aux.AuxLogits is None and not any(k.startswith("AuxLogits") for k in no_aux.state_dict())
    assert len(no_aux.state_dict()) == 580 - 14


def test_inception_v3_train_mode_returns_aux_logits_and_eval_mode_logits():
    model = M.inception_v3(num_classes=5, init_weights=False)
    x = tg.randn(2, 3, 299, 299)
    out = model(x)                                   # train mode
    assert isinstance(out, M.InceptionOutputs) and isinstance(out, tuple)
    assert tuple(out.logits.shape) == (2, 5) and tuple(out.aux_logits.shape) == (2, 5)
    model.eval()
    small = tg.randn(1, 3, 75, 75)                   # torchvision's min_size
    y = model(small)
    assert isinstance(y, tg.Tensor) and tuple(y.shape) == (1, 5)
    model.aux_logits = False
    model.train()
    assert isinstance(model(x), tg.Tensor)


def test_inception_transform_input_remaps_imagenet_normalised_input():
    model = M.inception_v3(num_classes=3, aux_logits=False, init_weights=False, transform_input=True)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    expected = ((x * std[:, None, None] + mean[:, None, None]) - 0.5) / 0.5   # to [-1, 1]
    np.testing.assert_allclose(model._transform_input(tg.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    model.transform_input = False
    np.testing.assert_array_equal(model._transform_input(tg.tensor(x)).numpy(), x)


@pytest.mark.parametrize("call", [
    lambda: M.resnet18(weights=M.ResNet18_Weights.IMAGENET1K_V1),
    lambda: M.resnet18(weights="DEFAULT"),
    lambda: M.resnet50(weights="ResNet50_Weights.IMAGENET1K_V2"),
    lambda: M.vgg19(weights=M.VGG19_Weights.DEFAULT),
    lambda: M.inception_v3(weights="IMAGENET1K_V1"),
    lambda: M.alexnet(pretrained=True),
    lambda: M.vgg16(True),
])
def test_torchvision_weight_enums_are_refused_with_the_conversion_recipe(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(CheckpointError, match=r"np\.savez|numpy\.savez") as info:
            call()
    assert "download.pytorch.org" in str(info.value) and "weights=" in str(info.value)


def test_weights_argument_errors():
    with pytest.raises(InputTypeError, match="ResNet18_Weights"):
        M.resnet18(weights=M.VGG16_Weights.IMAGENET1K_V1)
    with pytest.raises(InputTypeError, match="weights must be"):
        M.resnet18(weights=3)
    with pytest.raises(CheckpointError, match="neither an existing file"):
        M.resnet18(weights="/nonexistent/resnet18.npz")
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        model = M.resnet18(pretrained=False, num_classes=2)
    assert tuple(model.fc.weight.shape) == (2, 512)
    with pytest.raises(CheckpointError, match="get_state_dict"):
        M.ResNet18_Weights.IMAGENET1K_V1.get_state_dict()


def test_converted_weights_load_from_npz_checkpoint_url_and_mapping(tmp_path):
    src = M.resnet18(num_classes=10)
    sd = {k: v.numpy() for k, v in src.state_dict().items()}
    npz = tmp_path / "resnet18.npz"
    np.savez(npz, **sd)                       # what the conversion in torch writes
    ckpt = tmp_path / "resnet18.tg"
    tg.save(src.state_dict(), ckpt)
    x = tg.randn(1, 3, 32, 32)
    expected = src.eval()(x).numpy()
    for weights in (str(npz), npz, ckpt, npz.as_uri(), sd):
        model = M.resnet18(weights=weights, num_classes=10).eval()
        np.testing.assert_array_equal(model(x).numpy(), expected)
        assert int(model.bn1.num_batches_tracked.item()) == int(sd["bn1.num_batches_tracked"])
    del sd["fc.bias"]
    np.savez(npz, **sd)
    with pytest.raises(Exception, match="fc.bias"):
        M.resnet18(weights=npz, num_classes=10)
    np.savez(npz, *[np.zeros(2), np.ones(3)])
    with pytest.raises(CheckpointError, match="unnamed arrays"):
        M.resnet18(weights=npz, num_classes=10)


def test_inception_weights_file_keeps_torchvision_defaults(tmp_path):
    src = M.inception_v3(num_classes=4, init_weights=False)
    path = tmp_path / "inception.npz"
    np.savez(path, **{k: v.numpy() for k, v in src.state_dict().items()})
    model = M.inception_v3(weights=path, num_classes=4)
    assert model.transform_input is True and model.AuxLogits is not None
    dropped = M.inception_v3(weights=path, num_classes=4, aux_logits=False, transform_input=False)
    assert dropped.AuxLogits is None and dropped.aux_logits is False and dropped.transform_input is False
    np.testing.assert_array_equal(dropped.fc.weight.numpy(), src.fc.weight.numpy())


def test_weight_enums_metadata_and_transforms():
    w = M.VGG19_Weights.IMAGENET1K_V1
    assert M.VGG19_Weights.DEFAULT is w and repr(w) == "VGG19_Weights.IMAGENET1K_V1"
    assert w.url == "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
    assert "categories" not in w.meta and w.meta["min_size"] == (32, 32)
    assert M.ResNet50_Weights.DEFAULT is M.ResNet50_Weights.IMAGENET1K_V2
    assert M.ResNet50_Weights.verify("IMAGENET1K_V1") is M.ResNet50_Weights.IMAGENET1K_V1
    assert M.get_weight("ResNet50_Weights.IMAGENET1K_V2") is M.ResNet50_Weights.IMAGENET1K_V2
    t = w.transforms()
    assert isinstance(t, ImageClassification)
    assert (t.crop_size, t.resize_size) == ([224], [256])
    t50 = M.ResNet50_Weights.IMAGENET1K_V2.transforms()
    assert (t50.crop_size, t50.resize_size) == ([224], [232])
    ti = M.Inception_V3_Weights.DEFAULT.transforms()
    assert (ti.crop_size, ti.resize_size) == ([299], [342])
    feats = M.VGG16_Weights.IMAGENET1K_FEATURES.transforms()
    assert feats.std == [1 / 255.0] * 3 and feats.mean == [0.48235, 0.45882, 0.40784]
    # a constant image stays constant through resize / crop: ((c / 255) - mean) / std per channel
    colour = (200, 30, 90)
    out = t(Image.new("RGB", (320, 300), colour))
    assert tuple(out.shape) == (3, 224, 224) and out.dtype == tg.float32
    expected = (np.array(colour) / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(out.numpy().reshape(3, -1).mean(1), expected, rtol=1e-5)
    np.testing.assert_allclose(out.numpy().reshape(3, -1).std(1), 0, atol=1e-5)
    batch = tg.tensor(np.full((2, 3, 260, 400), 128, np.uint8))
    out = t(batch)
    assert tuple(out.shape) == (2, 3, 224, 224)
    np.testing.assert_allclose(out.numpy()[:, 1], (128 / 255 - 0.456) / 0.224, rtol=1e-5)
    assert "crop_size=[224]" in repr(t) and "resize_size=[256]" in repr(t)


def test_registry_and_package_exports():
    assert M.list_models() == sorted(["alexnet", "inception_v3", "resnet18", "resnet34", "resnet50",
                                      "resnet101", "resnet152", "squeezenet1_0", "squeezenet1_1",
                                      "vgg11", "vgg11_bn", "vgg13",
                                      "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"])
    assert M.list_models(include="resnet*", exclude="*15*") == ["resnet101", "resnet18", "resnet34", "resnet50"]
    assert M.get_model_weights("vgg16_bn") is M.VGG16_BN_Weights
    assert M.get_model_weights(M.inception_v3) is M.Inception_V3_Weights
    assert tuple(M.get_model("ResNet18", num_classes=3).fc.weight.shape) == (3, 512)
    with pytest.raises(ConfigError, match="Unknown model"):
        M.get_model("densenet121")
    import tensorgan.vision as tv
    assert tv.models is M


def test_children_order_supports_the_backbone_idioms(resnets, inception):
    r18 = resnets["resnet18"]
    assert [n for n, _ in r18.named_children()] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    backbone = nn.Sequential(*list(r18.children())[:-1]).eval()       # feature-extractor idiom
    assert tuple(backbone(tg.randn(2, 3, 32, 32)).shape) == (2, 512, 1, 1)
    assert [n for n, _ in inception.named_children()] == [
        "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
        "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
        "Mixed_6c", "Mixed_6d", "Mixed_6e", "AuxLogits", "Mixed_7a", "Mixed_7b", "Mixed_7c",
        "avgpool", "dropout", "fc"]
    assert [n for n, _ in M.alexnet().named_children()] == ["features", "avgpool", "classifier"]
    fid = M.inception_v3(num_classes=3, aux_logits=False, init_weights=False)
    fid.fc = nn.Identity()                                             # FID's pool3 features
    assert tuple(fid.eval()(tg.randn(1, 3, 75, 75)).shape) == (1, 2048)
