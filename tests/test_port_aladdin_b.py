"""Found porting aladdinpersson's Machine-Learning-Collection GANs (CycleGAN, Pix2Pix, SRGAN,
ESRGAN): torch.load / torch.save keyword arguments torch code passes (``mmap=``,
``pickle_module=``, ``_use_new_zipfile_serialization=``, ...), plus the pieces those programs
lean on -- reflect-padded convolutions, the utils' checkpoint round trip with the learning-rate
reset, and ESRGAN's gradient penalty -- checked against first principles (no torch import)."""
import io
import pickle

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.optim as optim


# -- torch.load / torch.save keywords ----------------------------------------------------------
def test_load_and_save_take_torchs_keywords(tmp_path):
    m = nn.Linear(3, 2)
    path = tmp_path / "ck.pth.tar"
    tg.save({"state_dict": m.state_dict()}, path, pickle_module=pickle, pickle_protocol=2,
            _use_new_zipfile_serialization=False, _disable_byteorder_record=True)
    for kw in ({"mmap": True}, {"mmap": False, "weights_only": None},
               {"pickle_module": pickle, "weights_only": False}, {"encoding": "latin1"},
               {"map_location": "cpu", "mmap": None, "encoding": "ASCII", "errors": "strict",
                "fix_imports": True}):
        loaded = tg.load(path, **kw)
        np.testing.assert_array_equal(loaded["state_dict"]["weight"].numpy(), m.weight.detach().numpy())
    buf = io.BytesIO()
    tg.save(m.state_dict(), buf, pickle, 4)                     # torch.save's positional order
    buf.seek(0)
    loaded = tg.load(buf, "cpu", pickle, mmap=False)            # torch.load's too
    np.testing.assert_array_equal(loaded["bias"].numpy(), m.bias.detach().numpy())


def test_load_refuses_a_keyword_torch_does_not_take(tmp_path):
    path = tmp_path / "ck.pt"
    tg.save({"a": tg.ones(2)}, path)
    with pytest.raises(TypeError, match="unexpected keyword argument 'map_locaton'"):
        tg.load(path, map_locaton="cpu")


# -- CycleGAN / Pix2Pix: Conv2d(padding_mode="reflect") ------------------------------------------
def test_reflect_padded_conv_is_a_conv_of_the_reflected_input():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 7))
    conv = nn.Conv2d(3, 4, 4, 2, 1, padding_mode="reflect").double()   # the PatchGAN block's conv
    plain = nn.Conv2d(3, 4, 4, 2, 0).double()
    plain.load_state_dict(conv.state_dict())
    want = plain(tg.tensor(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")))
    xt = tg.tensor(x, requires_grad=True)
    got = conv(xt)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    # the gradient folds the reflected border back: an all-ones output gradient gives each
    # input position the count of window taps that read it (directly or through the mirror)
    (got.sum()).backward()
    xp = tg.tensor(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect"), requires_grad=True)
    plain(xp).sum().backward()
    gp = xp.grad.numpy()
    folded = gp[:, :, 1:-1, 1:-1].copy()
    folded[:, :, 1, :] += gp[:, :, 0, 1:-1]
    folded[:, :, -2, :] += gp[:, :, -1, 1:-1]
    folded[:, :, :, 1] += gp[:, :, 1:-1, 0]
    folded[:, :, :, -2] += gp[:, :, 1:-1, -1]
    for (r, c), (fr, fc) in {(0, 0): (1, 1), (0, -1): (1, -2), (-1, 0): (-2, 1), (-1, -1): (-2, -2)}.items():
        folded[:, :, fr, fc] += gp[:, :, r, c]
    np.testing.assert_allclose(xt.grad.numpy(), folded, rtol=1e-12, atol=1e-12)


# -- utils.save_checkpoint / load_checkpoint with the lr reset -----------------------------------
def test_checkpoint_round_trip_then_lr_reset_steps_with_the_new_lr(tmp_path):
    tg.manual_seed(0)
    gen = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), nn.InstanceNorm2d(2),
                        nn.ReLU(inplace=True))
    opt = optim.Adam(gen.parameters(), lr=1e-5, betas=(0.5, 0.999))
    x = tg.randn(1, 1, 5, 5)
    for _ in range(3):
        opt.zero_grad()
        (gen(x) * tg.arange(50.0).reshape(1, 2, 5, 5)).mean().backward()
        opt.step()
    tg.save({"state_dict": gen.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "g.pth.tar")

    gen2 = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), nn.InstanceNorm2d(2),
                         nn.ReLU(inplace=True))
    opt2 = optim.Adam(gen2.parameters(), lr=1e-5, betas=(0.5, 0.999))
    checkpoint = tg.load(tmp_path / "g.pth.tar", map_location="cpu")
    gen2.load_state_dict(checkpoint["state_dict"])
    opt2.load_state_dict(checkpoint["optimizer"])
    for param_group in opt2.param_groups:
        param_group["lr"] = 3e-4
    assert opt2.state_dict()["state"][0]["step"] == 3
    before = gen2[0].weight.detach().numpy().copy()
    # the same step in both: the restored moments, then an update of size lr * m_hat / sqrt(v_hat)
    grads = []
    for g, o in ((gen, opt), (gen2, opt2)):
        o.zero_grad()
        (g(x) * tg.arange(50.0).reshape(1, 2, 5, 5)).mean().backward()
        grads.append(g[0].weight.grad.numpy().copy())
    np.testing.assert_array_equal(grads[0], grads[1])
    st = opt.state_dict()["state"][0]
    m = 0.5 * np.asarray(st["exp_avg"]) + 0.5 * grads[1]
    v = 0.999 * np.asarray(st["exp_avg_sq"]) + 0.001 * grads[1] ** 2
    step = 3e-4 * (m / (1 - 0.5 ** 4)) / (np.sqrt(v / (1 - 0.999 ** 4)) + 1e-8)
    opt2.step()
    np.testing.assert_allclose(before - gen2[0].weight.detach().numpy(), step, rtol=1e-4, atol=1e-9)


# -- ESRGAN utils.gradient_penalty ----------------------------------------------------------------
def _gradient_penalty(critic, real, fake):
    BATCH_SIZE, C, H, W = real.shape
    alpha = tg.rand((BATCH_SIZE, 1, 1, 1)).repeat(1, C, H, W)
    interpolated_images = real * alpha + fake.detach() * (1 - alpha)
    interpolated_images.requires_grad_(True)
    mixed_scores = critic(interpolated_images)
    gradient = tg.autograd.grad(inputs=interpolated_images, outputs=mixed_scores,
                                grad_outputs=tg.ones_like(mixed_scores), create_graph=True,
                                retain_graph=True)[0]
    gradient = gradient.view(gradient.shape[0], -1)
    gradient_norm = gradient.norm(2, dim=1)
    return tg.mean((gradient_norm - 1) ** 2)


def test_gradient_penalty_of_a_linear_critic_and_its_weight_gradient():
    # critic(x) = w . flatten(x) + b: its input gradient is w for every sample, so the penalty is
    # (|w| - 1)^2 whatever the interpolation, and d/dw = 2 (|w| - 1) w / |w|
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 1)).double()
    w = critic[1].weight.detach().numpy().ravel()
    real = tg.tensor(np.random.default_rng(1).standard_normal((3, 3, 2, 2)))
    fake = tg.tensor(np.random.default_rng(2).standard_normal((3, 3, 2, 2)), requires_grad=True)
    gp = _gradient_penalty(critic, real, fake)
    norm = np.linalg.norm(w)
    np.testing.assert_allclose(gp.item(), (norm - 1) ** 2, rtol=1e-12)
    (10 * gp).backward()
    np.testing.assert_allclose(critic[1].weight.grad.numpy().ravel(), 10 * 2 * (norm - 1) * w / norm,
                               rtol=1e-10)
    assert fake.grad is None            # the penalty does not reach the generator


# -- a learner's print(intermediate.grad) -----------------------------------------------------------
def test_reading_a_non_leafs_grad_warns_as_torch():
    x = tg.ones(3, requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf Tensor .* use \.retain_grad\(\)"):
        assert y.grad is None
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = x * 3
        z.retain_grad()
        z.sum().backward()
        assert z.grad.tolist() == [1.0, 1.0, 1.0]           # retained: no warning
        assert x.grad.tolist() == [5.0, 5.0, 5.0]           # a leaf: none
        assert tg.ones(2).grad is None                      # no grad needed: a leaf too
        with tg.no_grad():
            assert (x * 2).grad is None                     # made outside the graph: a leaf
        m = nn.Linear(2, 2)
        m.register_buffer("made", x[:2] * 1.0)              # a graph result kept as a buffer
        m.to("cpu").double().zero_grad()                    # module plumbing reads no .grad of it
        (x * 4).zero_grad()
