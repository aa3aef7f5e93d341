"""Every kernel file opens with its algorithm, FLOP and byte counts (and, for the CPU and CUDA sets,
its launch shape), and the numbers those docstrings state are the code's: block sizes and static
shared memory from the CUDA modules' constants, FLOPs, padding shares and tile counts at the
DCGAN-on-MNIST layers (batch 64; walked from tensorgan.models.dcgan's own modules), the split-K
sizes the glue picks.  No GPU needed: the CUDA modules import without one.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import NamedTuple

import pytest

KERNELS_DIR = Path(__file__).resolve().parents[1] / "kernels"
HELPERS = {"__init__.py", "_launch.py", "_pack.py", "_threads.py", "_workers.py", "tiles.py"}
BATCH = 64


def _kernel_files(kernel_set: str) -> list[Path]:
    return sorted(p for p in (KERNELS_DIR / kernel_set).glob("*.py") if p.name not in HELPERS)


def _docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""


@pytest.mark.parametrize("kernel_set", ["reference", "cpu", "cuda"])
def test_every_kernel_file_states_algorithm_cost_and_launch(kernel_set):
    files = _kernel_files(kernel_set)
    assert len(files) >= 5
    for path in files:
        doc = _docstring(path)
        where = f"kernels/{kernel_set}/{path.name}"
        assert len(doc.splitlines()) >= 8, f"{where}: no opening docstring worth the name"
        assert re.search(r"FLOP", doc), f"{where}: docstring states no FLOP count"
        assert re.search(r"byte", doc, re.I), f"{where}: docstring states no byte count"
        if kernel_set != "reference":
            assert re.search(r"launch", doc, re.I), f"{where}: docstring states no launch shape"


def _cuda():
    from tensorgan.kernels import cuda
    return cuda


def _static_smem_bytes() -> dict[str, int]:
    """Each kernel's static shared memory, from the shapes its code declares (float32)."""
    from tensorgan.kernels.cuda import conv_thin, tiles
    tiled = 4 * (tiles.BK * (tiles.BM + tiles.BN_PAD)                  # the A and B K-step tiles
                 + tiles.WARPS * tiles.WARP_COLS * tiles.GROUP_ROWS)   # + the store's staging
    return {"conv2d_fwd": tiled, "conv2d_dgrad": tiled, "conv2d_wgrad": tiled,
            "conv2d_fwd_thin": 4 * conv_thin.THIN_C * conv_thin.KC,
            "conv2d_dgrad_thin": 4 * conv_thin.THIN_C * conv_thin.KC,
            "conv2d_wgrad_thin": 4 * conv_thin.THIN_THREADS * conv_thin.RED_ROW,
            "channel_sum": 4 * tiles.RED_THREADS, "bn_stats": 4 * tiles.RED_THREADS,
            "bn_backward_reduce": 4 * tiles.RED_THREADS,
            "channel_sum_split": 4 * tiles.RED_THREADS, "bn_stats_split": 4 * tiles.RED_THREADS,
            "bn_backward_split": 4 * tiles.RED_THREADS,
            "channel_sum_rows": 4 * tiles.LANES * tiles.ROW_LANES,
            "bn_stats_rows": 4 * tiles.LANES * tiles.ROW_LANES,
            "bn_backward_reduce_rows": 4 * tiles.LANES * tiles.ROW_LANES}


def _module_of(kernel) -> Path:
    return KERNELS_DIR / "cuda" / (kernel.py_func.__module__.rsplit(".", 1)[-1] + ".py")


def test_cuda_docstrings_state_the_codes_block_and_shared_memory():
    cuda = _cuda()
    smem = _static_smem_bytes()
    for name, kernel, _, threads, dynamic in cuda.KERNELS:
        path = _module_of(kernel)
        doc = _docstring(path)
        assert re.search(rf"block[^\n]*\b{threads}\b", doc), \
            f"{path.name}: {name} runs {threads} threads a block, the docstring does not say so"
        assert dynamic == 0, f"{name}: the docstrings state no dynamic shared memory"
        if name in smem:
            assert re.search(rf"\b{smem[name]}\b", doc), \
                f"{path.name}: {name} declares {smem[name]} bytes of shared memory"
        else:
            assert re.search(r"no\s+shared\s+memory", doc), \
                f"{path.name}: {name} declares no shared memory, the docstring does not say so"


class Layer(NamedTuple):
    """One convolution of the DCGAN on MNIST, as its module and the shapes it sees say."""
    name: str            # "D 64->128", "G 256->128" (a transposed one), as the docstrings name them
    c_in: int
    c_out: int
    k: int
    s: int
    p: int
    in_hw: int
    out_hw: int
    transposed: bool

    def as_conv2d(self) -> tuple:
        """(C_in, C_out, k, input side, output side) of the conv2d it is (a transposed
        convolution's is the conv2d from its output back to its input)."""
        if self.transposed:
            return self.c_out, self.c_in, self.k, self.out_hw, self.in_hw
        return self.c_in, self.c_out, self.k, self.in_hw, self.out_hw

    def gflop(self) -> float:
        """2 * N * C_out * OH * OW * C_in * kH * kW of that conv2d, batch 64, in GFLOP."""
        c_in, c_out, k, _, oh = self.as_conv2d()
        return 2 * BATCH * c_out * oh * oh * c_in * k * k / 1e9


def _dcgan_layers() -> dict[str, Layer]:
    """The convolutions of tensorgan's default DCGAN (G and D for 1 x 28 x 28), walked through
    the models' own modules with the kernels' output-size arithmetic."""
    from tensorgan import nn
    from tensorgan.kernels.shapes import conv2d_output_size, conv_transpose2d_output_size
    from tensorgan.models.dcgan import Discriminator, Generator
    layers = {}
    for net, side in (("G", None), ("D", 28)):
        for m in (Generator() if net == "G" else Discriminator()):
            if isinstance(m, nn.Unflatten):
                side = m.unflattened_size[-1]
            if not isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                continue
            (k, _), (s, _), (p, _) = m.kernel_size, m.stride, m.padding
            transposed = isinstance(m, nn.ConvTranspose2d)
            out = (conv_transpose2d_output_size(side, k, s, p, m.output_padding[0]) if transposed
                   else conv2d_output_size(side, k, s, p))
            name = f"{net} {m.in_channels}->{m.out_channels}"
            layers[name] = Layer(name, m.in_channels, m.out_channels, k, s, p, side, out, transposed)
            side = out
    return layers


@pytest.fixture(scope="module")
def dcgan():
    layers = _dcgan_layers()
    assert set(layers) == {"G 256->128", "G 128->64", "G 64->1", "D 1->64", "D 64->128"}
    return layers


@pytest.mark.parametrize("path, figures", [
    ("cpu/conv2d.py", {"0.82": ["D 64->128"], "0.058": ["G 64->1"], "0.026": ["D 1->64"]}),
    ("cpu/conv_transpose2d.py", {"3.29": ["G 256->128"]}),
    ("cuda/conv_fwd.py", {"0.026": ["D 1->64"], "0.822": ["D 64->128"], "3.288": ["G 128->64"]}),
    ("cuda/conv_dgrad.py", {"0.822": ["D 64->128"], "3.288": ["G 256->128", "G 128->64"]}),
])
def test_dcgan_flop_counts_are_the_layers(dcgan, path, figures):
    doc = _docstring(KERNELS_DIR / path)
    for text, names in figures.items():
        assert text in doc, f"{path}: {text} GFLOP not stated"
        decimals = len(text.split(".")[1])
        for name in names:
            value = dcgan[name].gflop()
            assert f"{value:.{decimals}f}" == text, f"{path}: states {text} GFLOP, {name} does {value}"


def test_dgrad_padding_fraction_at_d_64_128(dcgan):
    # conv_dgrad: "the taps whose oh, ow fall in the padding multiply zeros (14% at D 64->128)":
    # per axis, the (gx pixel, tap) pairs the kernel visits -- those with (i + p - tap) a multiple
    # of the stride -- and how many land on a gy pixel; both axes alike.
    layer = dcgan["D 64->128"]
    visited = [(i + layer.p - t) // layer.s for i in range(layer.in_hw) for t in range(layer.k)
               if (i + layer.p - t) % layer.s == 0]
    inside = sum(0 <= oh < layer.out_hw for oh in visited)
    stated = re.search(r"(\d+)% at D 64->128", _docstring(KERNELS_DIR / "cuda/conv_dgrad.py"))
    assert stated, "conv_dgrad.py: the padding share at D 64->128 is not stated"
    assert round(100 * (1 - (inside / len(visited)) ** 2)) == int(stated.group(1))


def test_wgrad_split_sizes_stated_in_the_glue_are_the_formulas():
    cuda = _cuda()
    from tensorgan.kernels.cuda import tiles
    # "D conv 64->128 (K = 3136) ... 33 splits of 12 steps (ceil(1056 / 32 tiles))"
    jdim, c_out, kdim = 64 * 16, 128, BATCH * 7 * 7
    assert kdim == 3136
    assert cuda._cdiv(jdim, tiles.BM) * cuda._cdiv(c_out, tiles.BN) == 32
    splits = cuda._wgrad_splits(jdim, c_out, kdim)
    k_chunk = cuda._cdiv(cuda._cdiv(kdim, splits), tiles.BK) * tiles.BK
    assert (cuda._cdiv(kdim, k_chunk), k_chunk // tiles.BK) == (33, 12)
    # "G's 64->1 layer (C_in = 64): 8 splits (512 blocks)" -- the thin weight gradient's rule
    c_in, thin_kdim = 64, BATCH * 28 * 28
    thin_splits = cuda._thin_wgrad_splits(c_in, thin_kdim)        # the rule _conv_wgrad applies
    assert (thin_splits, thin_splits * c_in) == (8, 512)


def test_wgrad_reduction_lengths_and_tiles_at_the_dcgan_layers(dcgan):
    # conv_wgrad: "K is long (3,136 to 12,544 at the DCGAN's layers, batch 64) while J x N is small
    # (1 to 128 64 x 64 tiles: 1 at D 1->64, 32 at D 64->128 and G 128->64, 128 at G 256->128)"
    # -- the tiled kernel's layers: those the glue does not send to conv_thin.
    cuda = _cuda()
    from tensorgan.kernels.cuda import tiles
    doc = " ".join(_docstring(KERNELS_DIR / "cuda/conv_wgrad.py").split())
    tiled = {name: layer.as_conv2d() for name, layer in dcgan.items()
             if not cuda._thin_output(layer.as_conv2d()[1], layer.k, layer.k)}
    tiles_of = {name: cuda._cdiv(c_in * k * k, tiles.BM) * cuda._cdiv(c_out, tiles.BN)
                for name, (c_in, c_out, k, _, _) in tiled.items()}
    stated = {}
    for count, names in re.findall(r"(\d+) at ((?:[DG] \d+->\d+(?: and )?)+)", doc):
        stated.update((name, int(count)) for name in names.split(" and "))
    assert stated == tiles_of
    lengths = sorted(BATCH * oh * oh for *_, oh in tiled.values())
    assert f"K is long ({lengths[0]:,} to {lengths[-1]:,} at the DCGAN's layers" in doc
    assert f"(1 to 128 {tiles.BM} x {tiles.BN} tiles" in doc and (min(tiles_of.values()), max(tiles_of.values())) == (1, 128)
