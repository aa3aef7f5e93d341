"""Gaps found porting face-swapping and talking-head GANs beside torch 2.13 (FaceShifter's AEI-Net
with AAD layers and the multiscale D, SimSwap's ID-injection generator with its patch Ds and
feature matching, Wav2Lip's SyncNet, generator and visual-quality D; tiny sizes, float64). The
training steps agreed with torch to rounding; what differed was the error *type* torch code
catches: window arguments out of range (a RuntimeError in torch), a dim out of range (an
IndexError), an unknown interpolate / pad mode, an interpolate input of the wrong rank and a
reflect / replicate pad layer on one (NotImplementedError), a size / scale_factor of the wrong
length (ValueError). Expected values are worked out here."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import ConfigError, InputTypeError, ShapeError


def _x(*shape):
    return tg.tensor(np.random.default_rng(0).standard_normal(shape))


# -- window arguments: torch's RuntimeError, still tensorgan's ConfigError ------------------------
WINDOW_CASES = [
    lambda: F.conv2d(_x(1, 2, 5, 5), _x(2, 2, 3, 3), stride=0),
    lambda: F.conv1d(_x(1, 2, 5), _x(2, 2, 3), padding=-1),
    lambda: F.conv3d(_x(1, 2, 5, 5, 5), _x(2, 2, 3, 3, 3), dilation=0),
    lambda: F.conv2d(_x(1, 2, 5, 5), _x(2, 2, 3, 3), stride=2, padding="same"),
    lambda: F.conv_transpose2d(_x(1, 2, 3, 3), _x(2, 2, 3, 3), output_padding=1),   # >= stride 1
    lambda: F.conv_transpose3d(_x(1, 2, 3, 3, 3), _x(2, 2, 3, 3, 3), output_padding=1),
    lambda: nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2).double()(_x(1, 2, 3, 3)),
    lambda: F.max_pool2d(_x(1, 2, 6, 6), 3, 2, 2),                                   # pad > k // 2
    lambda: F.max_pool1d(_x(1, 2, 6), 3, 2, 2),
    lambda: F.avg_pool1d(_x(1, 2, 4), 2, 0),
    lambda: F.avg_pool3d(_x(1, 2, 4, 4, 4), 0),
    lambda: F.unfold(_x(1, 2, 4, 4), 2, stride=0),
    lambda: F.fold(_x(1, 8, 4), (0, 3), 2),
    lambda: F.pixel_shuffle(_x(1, 4, 2, 2), 0),
    lambda: F.adaptive_avg_pool2d(_x(1, 2, 4, 4), -1),
    lambda: F.adaptive_avg_pool1d(_x(1, 2, 4), -1),
    lambda: F.adaptive_avg_pool2d(_x(1, 2, 4, 4), (1, 2, 3)),                       # wrong count
]


@pytest.mark.parametrize("case", WINDOW_CASES)
def test_window_arguments_out_of_range_are_runtime_errors(case):
    with pytest.raises(RuntimeError) as info:
        case()
    assert isinstance(info.value, ConfigError)            # what tensorgan raised before


def test_window_checks_keep_their_other_types():
    with pytest.raises(ValueError) as info:                # torch's module check is a ValueError
        nn.Conv2d(2, 2, 3, stride=2, padding="same")
    assert not isinstance(info.value, RuntimeError)
    with pytest.raises(TypeError):
        F.adaptive_avg_pool2d(_x(1, 2, 4, 4), 1.5)


# -- a dim out of range: torch's IndexError, still a ShapeError -----------------------------------
DIM_CASES = [
    lambda x: x.sum(dim=2), lambda x: x.mean((0, 2)), lambda x: x.norm(dim=-3),
    lambda x: F.softmax(x, dim=2), lambda x: x.unsqueeze(4), lambda x: x.size(3),
    lambda x: x.flip(2), lambda x: x.permute(0, 2), lambda x: x.transpose(0, 2),
    lambda x: tg.cat([x, x], dim=2), lambda x: tg.stack([x, x], dim=4),
    lambda x: F.cosine_similarity(x, x, dim=2), lambda x: F.normalize(x, dim=2),
    lambda x: x.max(dim=2), lambda x: x.cumsum(2),
]


@pytest.mark.parametrize("case", DIM_CASES)
def test_dim_out_of_range_is_an_index_error(case):
    with pytest.raises(IndexError) as info:
        case(tg.ones(2, 3))
    assert isinstance(info.value, ShapeError)


def test_permute_that_is_not_a_permutation_stays_a_runtime_error():
    for dims in ((0, 0), (0, 1, 2)):                         # repeated dim; wrong count
        with pytest.raises(RuntimeError) as info:
            tg.ones(2, 3).permute(*dims)
        assert not isinstance(info.value, IndexError)


# -- interpolate / pad: torch's NotImplementedError and ValueError --------------------------------
@pytest.mark.parametrize("case", [
    lambda: F.interpolate(_x(1, 1, 4, 4), size=3, mode="foo"),
    lambda: F.interpolate(_x(1, 1, 4), size=3, mode="bilinear"),      # bilinear wants 4-D
    lambda: F.interpolate(_x(1, 1, 4, 4), size=3, mode="trilinear"),
    lambda: F.interpolate(_x(4, 4), size=3),
    lambda: nn.Upsample(size=3, mode="foo")(_x(1, 1, 4, 4)),
    lambda: F.pad(_x(1, 1, 4, 4), [1, 1], mode="foo"),
    lambda: nn.ReflectionPad2d(1)(_x(3, 3)),
    lambda: nn.ReflectionPad2d(1)(_x(1, 1, 1, 3, 3)),
    lambda: nn.ReplicationPad1d(1)(_x(3)),
])
def test_unsupported_modes_and_ranks_are_not_implemented(case):
    with pytest.raises(NotImplementedError) as info:
        case()
    assert isinstance(info.value, (ConfigError, ShapeError))     # what tensorgan raised before


def test_circular_pad_layer_of_wrong_rank_stays_a_value_error():
    with pytest.raises(ValueError) as info:
        nn.CircularPad2d(1)(_x(3, 3))
    assert not isinstance(info.value, NotImplementedError)


def test_interpolate_size_of_the_wrong_length_is_a_value_error():
    for kw in ({"size": (2, 2, 2)}, {"scale_factor": [2, 2, 2]}):
        with pytest.raises(ValueError) as info:
            F.interpolate(_x(1, 1, 4, 4), **kw)
        assert isinstance(info.value, InputTypeError)          # tensorgan's type before
    with pytest.raises(TypeError) as info:                      # a wrong kind stays a TypeError only
        F.interpolate(_x(1, 1, 4, 4), size=(2, "a"))
    assert not isinstance(info.value, ValueError)


# -- the ported pieces: checks against NumPy and finite differences -------------------------------
def test_faceshifter_aad_blend_gradchecks():
    """AAD: instance-normalised h blended by a learned mask between attribute and identity
    modulations, ``(1 - M) * A + M * I``."""
    rng = np.random.default_rng(1)
    h = tg.tensor(rng.standard_normal((2, 3, 4, 4)), requires_grad=True)
    z_attr = tg.tensor(rng.standard_normal((2, 2, 4, 4)), requires_grad=True)
    z_id = tg.tensor(rng.standard_normal((2, 5)), requires_grad=True)
    conv1, conv2 = nn.Conv2d(2, 3, 3, 1, 1, bias=False), nn.Conv2d(2, 3, 3, 1, 1, bias=False)
    fc1, fc2, conv_h = nn.Linear(5, 3), nn.Linear(5, 3), nn.Conv2d(3, 1, 3, 1, 1, bias=False)
    for m in (conv1, conv2, fc1, fc2, conv_h):
        m.double()

    def aad(h, z_attr, z_id):
        hn = nn.InstanceNorm2d(3)(h)
        a = conv1(z_attr) * hn + conv2(z_attr)
        i = fc1(z_id).reshape(2, 3, 1, 1).expand_as(hn) * hn + fc2(z_id).reshape(2, 3, 1, 1).expand_as(hn)
        m = tg.sigmoid(conv_h(hn))
        return (tg.ones_like(m).to(m.device) - m) * a + m * i

    assert tg.gradcheck(aad, [h, z_attr, z_id])


def test_wav2lip_cosine_bce_matches_numpy():
    """Wav2Lip's sync loss: BCE of the cosine similarity of ReLU'd, L2-normalised embeddings."""
    rng = np.random.default_rng(2)
    a_np, v_np = np.abs(rng.standard_normal((4, 6))), np.abs(rng.standard_normal((4, 6)))
    y_np = np.array([[1.0], [0.0], [1.0], [0.0]])
    a = F.normalize(tg.tensor(a_np, requires_grad=True), p=2, dim=1)
    v = F.normalize(tg.tensor(v_np), p=2, dim=1)
    loss = nn.BCELoss()(F.cosine_similarity(a, v).unsqueeze(1), tg.tensor(y_np))
    d = (a_np * v_np).sum(1) / np.linalg.norm(a_np, axis=1) / np.linalg.norm(v_np, axis=1)
    expected = -np.mean(y_np[:, 0] * np.log(d) + (1 - y_np[:, 0]) * np.log(1 - d))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(RuntimeError):          # torch: "Found dtype Float but expected Double"
        nn.BCELoss()(F.cosine_similarity(a, v).unsqueeze(1), tg.ones(4, 1).float())
