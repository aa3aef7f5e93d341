"""Session 31's student read-through (helper h31w): the numbers the reading path states that can be
recomputed from the code -- parameter counts of the DCGAN in the Adam / EMA docstrings, the
per-channel batch-norm footprint, the README snippets' line counts the guide and headings quote,
and the guide's CUDA reading list naming every kernel file."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.models import build_models

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
GUIDE = (ROOT / "docs" / "how_it_works.md").read_text(encoding="utf-8")


def _docstring(relative: str) -> str:
    return ast.get_docstring(ast.parse((ROOT / relative).read_text(encoding="utf-8"))) or ""


def _flat(text: str) -> str:
    return " ".join(text.split())            # line breaks inside a sentence do not matter


def _readme_python_block(needle: str) -> list[str]:
    blocks = [b for b in re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M) if needle in b]
    assert len(blocks) == 1, needle
    return blocks[0].splitlines()


@pytest.fixture(scope="module")
def dcgan():
    return build_models((1, 28, 28), latent_dim=100, seed=0)


def _tensors_and_millions(modules) -> tuple[int, str]:
    params = [p for m in modules for p in m.parameters()]
    return len(params), f"{sum(p.numel() for p in params) / 1e6:.2f}M"


def test_adam_and_ema_docstrings_count_the_dcgans_parameters(dcgan):
    G, D = dcgan
    g_tensors, g_millions = _tensors_and_millions([G])
    all_tensors, all_millions = _tensors_and_millions([G, D])
    optim_doc = _flat(_docstring("kernels/cpu/optim.py"))
    assert f"All {all_millions} parameters of the MNIST DCGAN pair ({all_tensors} tensors)" in optim_doc
    assert f"MNIST generator's {g_tensors} tensors ({g_millions} elements)" in optim_doc
    bench = _flat((ROOT / "benchmarks" / "kernels.py").read_text(encoding="utf-8"))
    assert f"G and D: {all_millions} elements in {all_tensors} tensors; G alone: {g_millions} in {g_tensors})" in bench
    assert f"over G's {g_tensors} tensors" in bench
    assert f"over the generator's {g_tensors} tensors" in _flat(README)


def test_batchnorm_docstring_states_the_dcgans_per_channel_footprint(dcgan):
    # "a DCGAN channel is N*L*4 = 12-200 KB per array at batch 64": every BatchNorm2d input.
    G, D = dcgan
    sizes = []
    x = G(tg.randn(64, 100, seed=0))
    for net, inp in ((G, tg.randn(64, 100, seed=0)), (D, x.detach())):
        out = inp
        for m in net:
            if isinstance(m, nn.BatchNorm2d):
                sizes.append(out.shape[0] * out.shape[2] * out.shape[3] * 4)
            out = m(out)
    stated = re.search(r"N\*L\*4 = (\d+)-(\d+) KB per array at batch 64", _docstring("kernels/cpu/batchnorm.py"))
    assert stated, "kernels/cpu/batchnorm.py no longer states the per-channel footprint"
    assert (int(min(sizes) / 1000), int(max(sizes) / 1000)) == (int(stated[1]), int(stated[2]))


def test_pack_budget_comment_is_consistent_with_its_constant():
    from tensorgan.kernels.cpu import _pack
    source = (ROOT / "kernels" / "cpu" / "_pack.py").read_text(encoding="utf-8")
    assert _pack.COLS_BUDGET == 1 << 20
    assert "1 Mi elements, 4 MiB of float32 -- four times\n# one core's L2 (1 MiB" in source
    assert "L2 is 1 MiB per core" in _docstring("kernels/cpu/batchnorm.py")


def test_readme_autograd_section_is_ten_lines_of_code():
    assert "## Autograd in ten lines" in README
    block = _readme_python_block("tg.gradcheck")
    code = [line for line in block if line.strip() and not line.lstrip().startswith("#")]
    assert len(code) == 10


def test_guide_quotes_the_training_programs_length():
    stated = re.search(r"\*Training a GAN\* section -- a (\d+)-line program", _flat(GUIDE))
    assert stated, "docs/how_it_works.md no longer quotes the README loop's length"
    assert int(stated[1]) == len(_readme_python_block("build_models"))


def test_guide_reading_list_names_every_cuda_kernel_file():
    helpers = {"__init__.py", "_launch.py"}
    files = sorted(p.name for p in (ROOT / "kernels" / "cuda").glob("*.py") if p.name not in helpers)
    missing = [name for name in files if f"`{name}`" not in GUIDE]
    assert not missing, f"docs/how_it_works.md's kernels/cuda reading list omits {missing}"


def test_reference_leaky_relu_forms_agree_exactly():
    # The docstring's claim behind choosing min/max over np.where: both are exact.
    from tensorgan.kernels import reference
    x = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
    x[:3] = (0.0, -0.0, np.float32(-1e-38))
    np.testing.assert_array_equal(reference.leaky_relu(x, 0.2), np.where(x < 0, np.float32(0.2) * x, x))
