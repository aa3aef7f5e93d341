"""The README's Python examples run as written (so they cannot rot).

Each ```python block of README.md is executed. The gradient-penalty fragment gets the names it
assumes (D, real, fake, e, loss_d) from a small set-up; the training loop runs on the first 192
images of the bundled MNIST test set (load_mnist is replaced by a slice of itself), three batches.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import tensorgan as tg

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def _block_with(needle: str) -> str:
    matches = [block for block in _python_blocks() if needle in block]
    assert len(matches) == 1, f"expected one README python block containing {needle!r}"
    return matches[0]


def test_readme_has_the_examples_this_file_runs():
    assert len(_python_blocks()) == 3


def test_autograd_example_prints_what_the_comment_says(capsys):
    block = _block_with("loss.backward()                       # fills x.grad")
    exec(compile(block, "README.md (autograd)", "exec"), {})
    printed = capsys.readouterr().out.split()
    comment = re.search(r"# -> (\S+)", block).group(1).rstrip(".")
    assert printed[0].startswith(comment), (printed, comment)
    assert " ".join(printed[1:]) == "(3, 2)"


def test_gradient_penalty_fragment_reaches_the_discriminator():
    from tensorgan.models import build_models
    block = _block_with("create_graph=True")
    _, D = build_models((1, 28, 28), latent_dim=8, seed=0)
    rng = np.random.default_rng(0)
    real = tg.tensor(rng.uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32))
    fake = tg.tensor(rng.uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32), requires_grad=True)
    e = tg.tensor(rng.uniform(0, 1, (4, 1, 1, 1)).astype(np.float32))
    loss_d = D(real).mean() - D(fake.detach()).mean()
    namespace = {"tg": tg, "D": D, "real": real, "fake": fake, "e": e, "loss_d": loss_d}
    exec(compile(block, "README.md (penalty)", "exec"), namespace)
    assert fake.grad is None                       # fake.detach() keeps G out of it
    grads = [p.grad for p in D.parameters()]
    assert all(g is not None for g in grads)
    assert all(np.isfinite(g.numpy()).all() for g in grads)
    assert namespace["penalty"].shape == (4,)


def test_training_loop_runs_and_updates_both_networks(monkeypatch):
    import tensorgan.data as data
    block = _block_with("for real, _ in DataLoader(")
    full = data.load_mnist("test")
    small = type(full)(full.images[:192], full.labels[:192], "test", "bundled")
    monkeypatch.setattr(data, "load_mnist", lambda split="train", *a, **k: small)
    namespace: dict = {}
    exec(compile(block, "README.md (training loop)", "exec"), namespace)
    G, D = namespace["G"], namespace["D"]
    assert namespace["opt_g"].state and namespace["opt_d"].state   # both stepped
    for loss in (namespace["loss_d"], namespace["loss_g"]):
        assert np.isfinite(loss.item())
    before_g, before_d = tg.models.build_models((1, 28, 28), latent_dim=100, seed=0)
    for after, before in ((G, before_g), (D, before_d)):
        moved = [not np.array_equal(a.numpy(), b.numpy())
                 for a, b in zip(after.parameters(), before.parameters())]
        assert all(moved)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
