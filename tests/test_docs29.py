"""docs/how_it_works.md stays true: its one-screen autograd program runs and gives tensorgan's
gradients, and every name its map points a reader to exists where it says."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np

import tensorgan as tg

# by module path: ``tensorgan.tensor`` as an attribute is the factory function tg.tensor
tensor, ops, functional = (importlib.import_module(f"tensorgan.{m}") for m in ("tensor", "ops", "functional"))

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "how_it_works.md"


def _one_screen_program() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert len(blocks) == 1, "the guide holds one python block: the autograd program"
    return blocks[0]


def test_one_screen_engine_fits_one_screen():
    assert len(_one_screen_program().splitlines()) <= 90


def test_one_screen_engine_gives_tensorgans_gradients():
    namespace: dict = {}
    exec(compile(_one_screen_program(), "docs/how_it_works.md", "exec"), namespace)
    x = tg.tensor(namespace["x"].array, requires_grad=True)
    w = tg.tensor(namespace["w"].array, requires_grad=True)
    loss = ((x * w).tanh() + x).sum()
    loss.backward()
    assert x.dtype == tg.float64
    np.testing.assert_allclose(namespace["loss"].array, loss.item(), rtol=1e-15)
    np.testing.assert_allclose(namespace["x"].grad, x.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(namespace["w"].grad, w.grad.numpy(), rtol=1e-14)


def test_one_screen_engine_sums_the_gradients_of_a_tensor_used_twice():
    namespace: dict = {}
    exec(compile(_one_screen_program(), "docs/how_it_works.md", "exec"), namespace)
    Tensor = namespace["Tensor"]
    a = Tensor(np.array([1.5, -2.0]), requires_grad=True)
    (a * a + a).sum().backward()                      # d/da (a^2 + a) = 2a + 1
    np.testing.assert_array_equal(a.grad, 2 * a.array + 1)


def test_the_guides_map_names_real_code():
    for owner, name in ((tensor.Function, "apply"), (tensor.Function, "grad_graph"),
                        (tensor.Function, "release"), (tensor.Tensor, "backward"),
                        (tensor.Tensor, "_accumulate_grad"), (tensor, "_topological_order"),
                        (tensor, "_latest_first"), (tensor, "_run_backward"), (tensor, "_operands"),
                        (ops, "Add"), (ops, "Mul"), (ops, "Tanh"), (ops, "Sum"), (ops, "unbroadcast"),
                        (functional, "Conv2d")):
        assert hasattr(owner, name), f"{owner.__name__}.{name}"
    for path in re.findall(r"`((?:tensorgan|kernels|tests)/[\w/]+\.py)`", GUIDE.read_text(encoding="utf-8")):
        assert (ROOT / path).is_file(), path


def test_losses_docstring_gradients_of_the_two_generator_losses():
    # losses.py: d/dl log(1 - sigmoid(l)) = -sigmoid(l) (minimax), d/dl -log sigmoid(l) =
    # -(1 - sigmoid(l)) (non-saturating); the loss is a mean, hence the 1/n
    from tensorgan import losses
    logits = np.array([-6.0, 0.0, 3.0])
    sig = 1.0 / (1.0 + np.exp(-logits))
    for kind, expected in (("minimax", -sig), ("non_saturating", -(1.0 - sig))):
        l = tg.tensor(logits, requires_grad=True)
        losses.generator_loss(l, kind).backward()
        np.testing.assert_allclose(l.grad.numpy() * len(logits), expected, rtol=1e-12)
