"""Session 26: input-gradient programs ported at tiny sizes and run beside torch 2.13 in float64
with identical weights -- RobGAN's adversarial training of an AC discriminator (xuanqing94/RobGAN:
the Linf_SGD sign optimizer, PGD through ``.data`` copies and clamps, the differentiable FGSM of
the generator step), a PGD-k attack with random start and torch.min/max projection, FGSM under
no_grad with ``.grad.zero_()``, Grad-CAM by forward and full backward hooks, SmoothGrad and
integrated gradients (batched interpolation, ``grad_outputs``) and feature visualisation (Adam on
an input image with jitter and total variation).
What differed, and is fixed: ``random_(0, to=n)`` (RobGAN's label sampling) and the error type of
``clamp`` with no bounds.  The other tests pin what the ports lean on, against NumPy."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
import tensorgan.nn.functional as F
from tensorgan.errors import InputTypeError


def _f64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- fixes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [lambda y: y.random_(0, to=3), lambda y: y.random_(to=3),
                                  lambda y: tg.Tensor.random_(y, 0, to=3)])
def test_random_takes_to_as_a_keyword(call):
    y = tg.LongTensor(200)
    assert call(y) is y
    assert set(np.unique(y.numpy())) == {0, 1, 2}


def test_random_keyword_to_with_two_bounds_is_refused():
    with pytest.raises(InputTypeError, match="at most from and to"):
        tg.LongTensor(3).random_(0, 2, to=3)


@pytest.mark.parametrize("call", [lambda x: tg.clamp(x), lambda x: x.clamp(None, None),
                                  lambda x: x.clamp_(), lambda x: tg.clip(x)])
def test_clamp_without_bounds_is_a_runtime_error(call):
    with pytest.raises(RuntimeError, match="'min' or 'max' must not be None"):
        call(tg.zeros(2))


@pytest.mark.parametrize("params", [lambda: tg.ones(2, requires_grad=True), lambda: tg.nn.Linear(2, 2),
                                    lambda: 3])
def test_optimizer_given_a_tensor_module_or_non_iterable_is_a_type_error(params):
    # (feature visualisation: Adam([img]) -- not Adam(img))
    with pytest.raises(TypeError, match="iterable of Parameters"):
        tg.optim.Adam(params(), lr=0.1)
    with pytest.raises(tg.ConfigError):
        tg.optim.Adam(params(), lr=0.1)


@pytest.mark.parametrize("first, second", [("full", "old"), ("old", "full")])
def test_regular_and_full_backward_hooks_on_one_module_are_refused(first, second):
    # torch: "Cannot use both regular backward hooks and full backward hooks on a single Module",
    # also after the first handle is removed (the module keeps its kind)
    register = {"full": lambda m: m.register_full_backward_hook(lambda *a: None),
                "old": lambda m: m.register_backward_hook(lambda *a: None)}
    conv = nn.Conv2d(3, 2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        register[first](conv).remove()
        register[first](conv)                      # the same kind again is fine
        with pytest.raises(RuntimeError, match="both regular backward hooks and full"):
            register[second](conv)


def test_full_backward_hook_node_name_is_torchs():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda *a: None)
    for x in (tg.ones(1, 2, requires_grad=True), tg.ones(1, 2)):
        assert lin(x).grad_fn.name() == "BackwardHookFunctionBackward"
