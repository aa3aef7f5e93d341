"""Session 27: torchgan (torchgan/torchgan) ported beside torch 2.13 in float64 with identical weights
and the same random arrays -- DCGAN, conditional GAN, ACGAN, InfoGAN and the BEGAN / EBGAN
auto-encoding generator and discriminator, the layers (residual blocks, minibatch discrimination,
virtual batch norm, self-attention, its SpectralNorm2d that deletes the module's weight parameter),
and every loss (minimax with label smoothing, non-saturating or not, least squares, WGAN with
clipping, WGAN-GP, DRAGAN, hinge, boundary equilibrium with its k update, energy based with the
pulling-away term, historical averaging, feature matching, auxiliary classifier, mutual
information), each loss's train_ops run by hand.  Losses, parameters and buffers agreed to 1e-14
(biases just before a BatchNorm, whose true gradient is zero, to 1e-10: Adam normalises the
rounding noise).  One thing differed: torchgan's losses default to ``reduction="elementwise_mean"``
(pre-1.0 torch), which torch still takes as "mean" with a deprecation warning and tensorgan refused;
fixed.  The tests pin that and torchgan's building blocks against NumPy / closed forms (no torch)."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F

# the reference reduction="mean" of kl_div warns about batchmean, as torch's does
pytestmark = [pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss"),
              pytest.mark.usefixtures("float64_default")]




_R = np.random.default_rng(0)
_X = _R.standard_normal((4, 3))
_P = 1 / (1 + np.exp(-_R.standard_normal((4, 3))))
_T01 = (_R.random((4, 3)) > 0.5).astype(float)
_CLS = np.array([0, 2, 1, 1])
_PM = np.array([1.0, -1.0, 1.0, -1.0])


def _losses():
    t = tg.tensor
    return {
        "mse_loss": lambda r: F.mse_loss(t(_X), t(_P), reduction=r),
        "l1_loss": lambda r: F.l1_loss(t(_X), t(_P), reduction=r),
        "smooth_l1_loss": lambda r: F.smooth_l1_loss(t(_X), t(_P), reduction=r),
        "huber_loss": lambda r: F.huber_loss(t(_X), t(_P), reduction=r),
        "binary_cross_entropy": lambda r: F.binary_cross_entropy(t(_P), t(_T01), reduction=r),
        "bce_with_logits": lambda r: F.binary_cross_entropy_with_logits(t(_X), t(_T01), reduction=r),
        "cross_entropy": lambda r: F.cross_entropy(t(_X), t(_CLS), reduction=r),
        "nll_loss": lambda r: F.nll_loss(t(_X), t(_CLS), reduction=r),
        "kl_div": lambda r: F.kl_div(t(_X), t(_P), reduction=r),
        "soft_margin_loss": lambda r: F.soft_margin_loss(t(_X[:, 0]), t(_PM), reduction=r),
        "hinge_embedding_loss": lambda r: F.hinge_embedding_loss(t(_X[:, 0]), t(_PM), reduction=r),
        "margin_ranking_loss": lambda r: F.margin_ranking_loss(t(_X[:, 0]), t(_X[:, 1]), t(_PM), reduction=r),
        "cosine_embedding_loss": lambda r: F.cosine_embedding_loss(t(_X), t(_P), t(_PM), reduction=r),
        "triplet_margin_loss": lambda r: F.triplet_margin_loss(t(_X), t(_P), t(_T01), reduction=r),
        "multi_margin_loss": lambda r: F.multi_margin_loss(t(_X), t(_CLS), reduction=r),
        "multilabel_margin_loss": lambda r: F.multilabel_margin_loss(
            t(_X), t(np.array([[0, -1, 1]] * 4)), reduction=r),
    }


# -- torch's deprecated reduction="elementwise_mean" (torchgan's default) -------------------------
@pytest.mark.parametrize("name", sorted(_losses()))
def test_elementwise_mean_is_mean_with_torchs_warning(name):
    loss = _losses()[name]
    with pytest.warns(UserWarning, match="reduction='elementwise_mean' is deprecated") as rec:
        old = loss("elementwise_mean")
    assert rec[0].filename == __file__          # points at the caller, not into tensorgan
    np.testing.assert_array_equal(old.numpy(), loss("mean").numpy())


def test_elementwise_mean_keeps_gradients():
    x = tg.tensor(_X, requires_grad=True)
    with pytest.warns(UserWarning):
        F.binary_cross_entropy_with_logits(x, tg.tensor(_T01), reduction="elementwise_mean").backward()
    sig = 1 / (1 + np.exp(-_X))
    np.testing.assert_allclose(x.grad.numpy(), (sig - _T01) / _X.size, rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda r: F.gaussian_nll_loss(tg.tensor(_X), tg.tensor(_P), tg.tensor(_P + 0.1), reduction=r),
    lambda r: F.poisson_nll_loss(tg.tensor(_X), tg.tensor(_P), reduction=r),
    lambda r: F.multilabel_soft_margin_loss(tg.tensor(_X), tg.tensor(_T01), reduction=r),
    lambda r: F.triplet_margin_with_distance_loss(tg.tensor(_X), tg.tensor(_P), tg.tensor(_T01), reduction=r),
], ids=["gaussian_nll", "poisson_nll", "multilabel_soft_margin", "triplet_with_distance"])
def test_elementwise_mean_refused_where_torch_refuses_it(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # refused, not warned about
        with pytest.raises(ValueError, match="reduction must be one of.*'elementwise_mean'"):
            call("elementwise_mean")


def test_unknown_reduction_still_names_the_loss():
    with pytest.raises(ValueError, match="mse_loss: reduction must be one of .*'avg'"):
        F.mse_loss(tg.tensor(_X), tg.tensor(_P), reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy: reduction"):
        F.cross_entropy(tg.tensor(_X), tg.tensor(_CLS), reduction="avg")
    with pytest.raises(ValueError, match="MSELoss: reduction"):
        nn.MSELoss(reduction="avg")


def test_loss_modules_keep_the_old_name_and_warn_at_each_call():
    """torch stores the string as given and warns in every forward (F does the mapping)."""
    for module, args in ((nn.MSELoss, (_X, _P)), (nn.CrossEntropyLoss, (_X, _CLS)),
                         (nn.KLDivLoss, (_X, _P))):
        m = module(reduction="elementwise_mean")
        assert m.reduction == "elementwise_mean"
        for _ in range(2):
            with pytest.warns(UserWarning, match="elementwise_mean"):
                got = m(*map(tg.tensor, args))
        np.testing.assert_array_equal(got.numpy(), module()(*map(tg.tensor, args)).numpy())
    m = nn.GaussianNLLLoss(reduction="elementwise_mean")        # torch: refused in forward
    with pytest.raises(ValueError, match="gaussian_nll_loss"):
        m(tg.tensor(_X), tg.tensor(_P), tg.tensor(_P + 0.1))


# -- torchgan's building blocks against NumPy -------------------------------------------------------
def test_torchgan_mutual_information_penalty_cuts_the_graph_as_in_torch():
    """torchgan builds the penalty with ``torch.Tensor([mean log_prob, ...])``: the values are
    right but the result is a new leaf, so ``backward`` fails in torch and here alike."""
    logits, c = tg.tensor(_X, requires_grad=True), tg.tensor(np.eye(3)[_CLS[:4] % 3])
    dist = tg.distributions.OneHotCategorical(logits=logits)
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        pen = tg.Tensor([tg.mean(dist.log_prob(c))])
    assert not pen.requires_grad
    logp = _X - np.log(np.exp(_X).sum(1, keepdims=True))
    np.testing.assert_allclose(pen.numpy(), [np.mean(logp[np.arange(4), _CLS % 3])], rtol=1e-13)
    with pytest.raises(RuntimeError):
        (-pen).mean().backward()


def test_pulling_away_term_matches_numpy():
    h = _R.standard_normal((5, 2, 3, 3))
    d = tg.tensor(h, requires_grad=True)
    dn = F.normalize(d, p=2, dim=0).view(5, -1)
    pt = tg.sum(tg.matmul(dn, dn.transpose(1, 0)) ** 2) / (5 * 4)
    hn = (h / np.maximum(np.sqrt((h ** 2).sum(0, keepdims=True)), 1e-12)).reshape(5, -1)
    np.testing.assert_allclose(pt.item(), ((hn @ hn.T) ** 2).sum() / 20, rtol=1e-13)
    pt.backward()
    eps, k = 1e-6, (2, 1, 0, 2)
    hp, hm = h.copy(), h.copy()
    hp[k] += eps
    hm[k] -= eps

    def f(a):
        an = (a / np.sqrt((a ** 2).sum(0, keepdims=True))).reshape(5, -1)
        return ((an @ an.T) ** 2).sum() / 20
    np.testing.assert_allclose(d.grad.numpy()[k], (f(hp) - f(hm)) / (2 * eps), rtol=1e-6)


def test_minibatch_discrimination_matches_numpy():
    x, w = _R.standard_normal((4, 6)), _R.standard_normal((6, 3, 5))
    xt, T = tg.tensor(x), tg.tensor(w)
    M = tg.mm(xt, T.view(6, -1)).view(-1, 3, 5).unsqueeze(0)
    out = tg.sum(tg.exp(-(tg.abs(M - M.permute(1, 0, 2, 3)).sum(3))), dim=0) - 1
    m = np.einsum("na,abc->nbc", x, w)
    ref = np.exp(-np.abs(m[:, None] - m[None]).sum(3)).sum(0) - 1
    np.testing.assert_allclose(tg.cat([xt, out], 1).numpy(), np.concatenate([x, ref], 1), rtol=1e-13)


def test_spectral_norm_module_swaps_a_deleted_parameter_for_a_tensor():
    """torchgan's SpectralNorm2d deletes ``module._parameters['weight']`` and sets the normalised
    weight as a plain attribute before each forward: not a parameter, not in the state_dict."""
    conv = nn.Conv2d(3, 4, 3)
    w_bar = nn.Parameter(conv.weight.data.clone())
    del conv._parameters["weight"]
    assert "weight" not in conv.state_dict()
    sigma = np.linalg.svd(w_bar.detach().numpy().reshape(4, -1), compute_uv=False)[0]
    conv.weight = w_bar / float(sigma)
    assert [n for n, _ in conv.named_parameters()] == ["bias"]
    x = tg.tensor(_R.standard_normal((2, 3, 5, 5)))
    conv(x).sum().backward()
    assert w_bar.grad is not None and w_bar.grad.shape == (4, 3, 3, 3)
    assert conv.bias.grad is not None


def test_autoencoding_generator_shared_upsample_unit_counts():
    """BEGAN's generator appends the same upsample Sequential num_repeats times: the state_dict
    lists each occurrence, parameters() yields the shared tensors once (torch: 45 keys, 18)."""
    n = 4
    unit = nn.Sequential(nn.ConvTranspose2d(n, n, 3, 2, 1, 1, bias=False), nn.BatchNorm2d(n), nn.ELU(),
                         nn.Conv2d(n, n, 3, 1, 1, bias=False), nn.BatchNorm2d(n), nn.ELU())
    first = nn.Sequential(nn.Conv2d(n, n, 3, 1, 1, bias=False), nn.BatchNorm2d(n), nn.ELU(),
                          nn.Conv2d(n, n, 3, 1, 1, bias=False), nn.BatchNorm2d(n), nn.ELU())
    model = nn.Sequential(first, unit, unit, nn.Sequential(nn.Conv2d(n, 3, 3, 1, 1), nn.Tanh()))
    fc = nn.Sequential(nn.Linear(8, 64 * n), nn.BatchNorm1d(64 * n), nn.ELU())
    g = nn.ModuleDict({"fc": fc, "model": model})
    assert len(g.state_dict()) == 45 and len(list(g.parameters())) == 18
    out = model(fc(tg.tensor(_R.standard_normal((3, 8)))).view(-1, n, 8, 8))
    assert out.shape == (3, 3, 32, 32)


def test_infogan_distributions_match_closed_forms():
    mean, logvar = _R.standard_normal((4, 2)), _R.standard_normal((4, 2))
    c = _R.standard_normal((4, 2))
    normal = tg.distributions.Normal(loc=tg.tensor(mean), scale=tg.exp(0.5 * tg.tensor(logvar)))
    ref = -0.5 * ((c - mean) ** 2 / np.exp(logvar) + logvar + np.log(2 * np.pi))
    np.testing.assert_allclose(normal.log_prob(tg.tensor(c)).numpy(), ref, rtol=1e-13)
    cat = tg.distributions.OneHotCategorical(logits=tg.tensor(_X))
    p = np.exp(_X) / np.exp(_X).sum(1, keepdims=True)
    np.testing.assert_allclose(cat.entropy().numpy(), -(p * np.log(p)).sum(1), rtol=1e-13)
    with pytest.raises(ValueError, match="support"):
        cat.log_prob(tg.tensor(np.full((4, 3), 1 / 3)))
