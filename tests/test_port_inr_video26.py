"""What the implicit-video-GAN ports (StyleGAN-V: conv motion codes, time encoders, time-conditioned
D; DIGAN: INR generator over (x, y, t), video / image discriminators) leaned on, checked from first
principles: torch's add*mm family refuses an input whose dtype is not the matrices' (StyleGAN's
``addmm(b.unsqueeze(0), x, w.t())`` with a float64 bias beside float32 weights), where tensorgan
computed a silently promoted result; addr alone promotes."""
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import DTypeError


def _mixed_cases():
    f32, f64 = tg.float32, tg.float64
    o = lambda *s, d=f32: tg.ones(*s, dtype=d)      # noqa: E731
    return [
        ("addmm bias", lambda: tg.addmm(o(1, 2, d=f64), o(3, 2), o(2, 2))),
        ("addmm beta=0", lambda: tg.addmm(o(1, 2, d=f64), o(3, 2), o(2, 2), beta=0)),
        ("addmm int bias", lambda: tg.addmm(o(1, 2, d=tg.int64), o(3, 2), o(2, 2))),
        ("addmm half bias", lambda: tg.addmm(o(1, 2, d=tg.float16), o(3, 2), o(2, 2))),
        ("Tensor.addmm", lambda: o(1, 2, d=f64).addmm(o(3, 2), o(2, 2))),
        ("Tensor.addmm_", lambda: o(3, 2).addmm_(o(3, 2, d=f64), o(2, 2, d=f64))),
        ("baddbmm", lambda: tg.baddbmm(o(1, 3, 2, d=f64), o(1, 3, 2), o(1, 2, 2))),
        ("Tensor.baddbmm_", lambda: o(3, 2).baddbmm_(o(1, 3, 2, d=f64), o(1, 2, 2, d=f64))),
        ("addbmm", lambda: tg.addbmm(o(3, 2, d=f64), o(1, 3, 2), o(1, 2, 2))),
        ("addmv", lambda: tg.addmv(o(3, d=f64), o(3, 2), o(2))),
        ("Tensor.addmv_", lambda: o(3).addmv_(o(3, 2, d=f64), o(2, d=f64))),
    ]


@pytest.mark.parametrize("name,call", _mixed_cases(), ids=[c[0] for c in _mixed_cases()])
def test_add_mm_family_refuses_an_input_of_another_dtype_as_torch(name, call):
    with pytest.raises(DTypeError, match="input has dtype") as info:
        call()
    assert isinstance(info.value, RuntimeError)            # torch raises RuntimeError


def test_add_mm_family_keeps_working_on_one_dtype_and_addr_still_promotes():
    rng = np.random.default_rng(0)
    b, x, w = rng.standard_normal(4), rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    for dt in (np.float32, np.float64):
        got = tg.addmm(tg.tensor(b.astype(dt))[None], tg.tensor(x.astype(dt)), tg.tensor(w.astype(dt)).t())
        assert got.dtype == dt
        np.testing.assert_allclose(got.numpy(), b + x @ w.T, rtol=1e-5)
    ints = tg.addmm(tg.ones(2, dtype=tg.int64), tg.ones(3, 2, dtype=tg.int64), tg.ones(2, 2, dtype=tg.int64))
    assert ints.dtype == np.int64 and ints.tolist() == [[3, 3]] * 3
    r = tg.addr(tg.ones(3, 2, dtype=tg.float64), tg.ones(3), tg.ones(2))
    assert r.dtype == np.float64 and np.all(r.numpy() == 2)


def test_fully_connected_layer_with_addmm_trains_in_float64():
    """StyleGAN-V's FullyConnectedLayer: addmm(b * gain, x, (w * gain).t()); gradients against
    finite differences."""
    rng = np.random.default_rng(1)
    w = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = tg.tensor(rng.standard_normal(3), requires_grad=True)
    x = tg.tensor(rng.standard_normal((5, 4)))
    gain, lr = 0.01 / math.sqrt(4), 0.01

    def loss(w, b):
        return tg.addmm((b * lr).unsqueeze(0), x, (w * gain).t()).sin().sum()

    loss(w, b).backward()
    eps = 1e-6
    for p, g in ((w, w.grad), (b, b.grad)):
        flat = p.detach().numpy().ravel()
        for i in range(flat.size):
            up, dn = flat.copy(), flat.copy()
            up[i] += eps
            dn[i] -= eps
            args = lambda a: [tg.tensor(a.reshape(p.shape)) if q is p else q.detach() for q in (w, b)]  # noqa: E731
            fd = (loss(*args(up)).item() - loss(*args(dn)).item()) / (2 * eps)
            assert abs(fd - g.numpy().ravel()[i]) < 1e-7
