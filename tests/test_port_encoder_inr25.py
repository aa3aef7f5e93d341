"""Session 25, encoder GANs and implicit-representation GANs beside torch 2.13 (BiGAN / ALI,
podgorskiy/ALAE, saic-mdal/CIPS): what those ports needed from tensorgan.

ALAE's equalized-learning-rate layers tag each weight with its own attribute
(``self.weight.lr_equalization_coef = self.std``) and its LREQAdam reads it back with
``hasattr(p, 'lr_equalization_coef')``, updating with torch's deprecated positional overloads
(``addcmul_(1 - beta_2, grad, grad)``, ``addcdiv_(-step_size, grad, denom)``) on every step."""
import copy
import math
import pickle
import warnings

import numpy as np

import tensorgan as tg
from tensorgan.tensor import _ONCE_WARNED


# -- a user's own attributes on a Parameter / Tensor, as torch allows --------------------------
def test_a_parameter_takes_the_users_own_attributes():
    lin = tg.nn.Linear(3, 2)
    lin.weight.lr_equalization_coef = 0.25          # ALAE's lreq.Linear
    lin.bias._no_weight_decay = True                 # the optimizer-grouping idiom
    params = dict(lin.named_parameters())
    assert params["weight"].lr_equalization_coef == 0.25 and params["bias"]._no_weight_decay
    assert not hasattr(lin.weight, "_no_weight_decay")
    # pickle keeps them; a Parameter's deepcopy is a fresh Parameter without them (torch 2.13's)
    assert pickle.loads(pickle.dumps(lin.weight)).lr_equalization_coef == 0.25
    assert not hasattr(copy.deepcopy(lin).weight, "lr_equalization_coef")
    t = tg.ones(2)
    t.tag = [1]                                       # a plain tensor's deepcopy copies them
    c = copy.deepcopy(t)
    assert c.tag == [1] and c.tag is not t.tag
    assert not hasattr(tg.ones(2), "tag")


def _lreq_step(p, lr, beta_2=0.99, eps=1e-8):
    """LREQAdam.step for one parameter (podgorskiy/ALAE custom_adam.py), first step."""
    grad = p.grad.data
    exp_avg_sq = tg.zeros_like(p.data)
    exp_avg_sq.mul_(beta_2).addcmul_(1 - beta_2, grad, grad)
    denom = exp_avg_sq.sqrt().add_(eps)
    step_size = lr * math.sqrt(1 - beta_2)
    if hasattr(p, "lr_equalization_coef"):
        step_size *= p.lr_equalization_coef
    p.data.addcdiv_(-step_size, grad, denom)


def test_lreq_adam_step_scales_by_the_parameter_coefficient(monkeypatch):
    monkeypatch.delitem(_ONCE_WARNED, "deprecated_overload", raising=False)
    w = tg.nn.Parameter(tg.tensor([1.0, -2.0, 0.5], dtype=tg.float64))
    w.lr_equalization_coef = 0.5
    b = tg.nn.Parameter(tg.tensor([0.0, 0.0, 0.0], dtype=tg.float64))
    g = np.array([0.3, -4.0, 2.0])
    for p in (w, b):
        p.grad = tg.tensor(g)
    before = w.detach().numpy().copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _lreq_step(w, lr=0.01)
        _lreq_step(b, lr=0.01)
    # first step: sqrt(v) = 0.1 |g|, step = lr * 0.1 * coef  ->  the update is -lr * coef * g / (|g| + 10 eps)
    expect = -0.01 * g / (np.abs(g) + 1e-7)
    np.testing.assert_allclose(w.detach().numpy() - before, 0.5 * expect, rtol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), expect, rtol=1e-12)


# -- torch's deprecated positional overloads warn once a program, at the caller's line ----------
def test_deprecated_overloads_warn_once_a_program_at_the_callers_line(monkeypatch):
    monkeypatch.delitem(_ONCE_WARNED, "deprecated_overload", raising=False)
    g, v = tg.ones(3), tg.zeros(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):                            # an old optimizer's step, every iteration
            v.mul_(0.99).addcmul_(1 - 0.99, g, g)
            v.addcdiv_(-0.1, g, g + 1)
            v.add_(0.5, g)
    e = 0.0
    for _ in range(3):
        e = e * 0.99 + (1 - 0.99)
        e = e - 0.1 / 2
        e = e + 0.5
    np.testing.assert_allclose(v.numpy(), [e] * 3, rtol=1e-6)    # the old forms' values
    assert len(caught) == 1, [str(w.message) for w in caught]   # one flag for them all, as torch's
    w = caught[0]
    assert w.category is UserWarning and w.filename == __file__
    assert str(w.message).startswith("This overload of addcmul_ is deprecated")   # the in-place name
    monkeypatch.delitem(_ONCE_WARNED, "deprecated_overload")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tg.addcmul(g, 0.5, g, g)                      # the function form points here too
        tg.ones(2).sub_(2.0, tg.ones(2))
    assert len(caught) == 1 and caught[0].filename == __file__
    assert "addcmul(Number value, Tensor tensor1, Tensor tensor2)" in str(caught[0].message)
