"""Every kernel file opens with its algorithm, FLOP and byte counts (and, for the CPU and CUDA sets,
its launch shape), and the numbers those docstrings state are the code's: block sizes and static
shared memory from the CUDA modules' constants, FLOPs at the DCGAN-on-MNIST shapes (batch 64),
the split-K sizes the glue picks.  No GPU needed: the CUDA modules import without one.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

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
    tiled = 4 * tiles.BK * (tiles.BM + tiles.BN_PAD)
    return {"conv2d_fwd": tiled, "conv2d_dgrad": tiled, "conv2d_wgrad": tiled,
            "conv2d_fwd_thin": 4 * conv_thin.THIN_C * conv_thin.KC,
            "conv2d_dgrad_thin": 4 * conv_thin.THIN_C * conv_thin.KC,
            "conv2d_wgrad_thin": 4 * conv_thin.THIN_THREADS * conv_thin.RED_ROW,
            "channel_sum": 4 * tiles.RED_THREADS, "bn_stats": 4 * tiles.RED_THREADS,
            "bn_backward_reduce": 4 * tiles.RED_THREADS}


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


def _gflop(c_in, c_out, k, out_hw) -> float:
    """2 * N * C_out * OH * OW * C_in * kH * kW, in GFLOP (the forward convolution's)."""
    return 2 * BATCH * c_out * out_hw * out_hw * c_in * k * k / 1e9


# (layer, its conv2d-equivalent FLOPs): D's convolutions and G's transposed ones.
D_1_64 = _gflop(1, 64, 4, 14)
D_64_128 = _gflop(64, 128, 4, 7)
G_64_1 = _gflop(64, 1, 3, 28)
G_T_256_128 = _gflop(128, 256, 4, 7)     # conv2d(gy 128 x 14 x 14) -> x 256 x 7 x 7
G_T_128_64 = _gflop(64, 128, 4, 14)


@pytest.mark.parametrize("path, figures", [
    ("cpu/conv2d.py", {"0.82": D_64_128, "0.058": G_64_1, "0.026": D_1_64}),
    ("cpu/conv_transpose2d.py", {"3.29": G_T_256_128}),
    ("cuda/conv_fwd.py", {"0.026": D_1_64, "0.822": D_64_128, "3.288": G_T_128_64}),
    ("cuda/conv_dgrad.py", {"0.822": D_64_128, "3.288": G_T_256_128}),
])
def test_dcgan_flop_counts_are_the_formulas(path, figures):
    doc = _docstring(KERNELS_DIR / path)
    assert G_T_256_128 == G_T_128_64
    for text, value in figures.items():
        assert text in doc, f"{path}: {text} GFLOP not stated"
        decimals = len(text.split(".")[1])
        assert f"{value:.{decimals}f}" == text, f"{path}: states {text} GFLOP, the formula gives {value}"


def test_dgrad_padding_fraction_at_d_64_128():
    # conv_dgrad: "the taps whose oh, ow fall in the padding multiply zeros (14% at D 64->128)":
    # gx 14 x 14 from gy 7 x 7, k4 s2 p1 -- count (phase pixel, tap) pairs per axis.
    size, out, k, s, p = 14, 7, 4, 2, 1
    inside = total = 0
    for r in range(s):
        k0 = (r + p) % s
        d = (r + p - k0) // s
        for q in range((size - r + s - 1) // s):
            for t in range(len(range(k0, k, s))):
                total += 1
                inside += 0 <= q + d - t < out
    assert "14% at D 64->128" in _docstring(KERNELS_DIR / "cuda/conv_dgrad.py")
    assert round(100 * (1 - (inside / total) ** 2)) == 14


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


def test_wgrad_reduction_lengths_and_tiles_at_the_dcgan_layers():
    # conv_wgrad: "K is long (3,136 to 12,544 ...) ... 1 at D 1->64, 32 at D 64->128 and G 128->64,
    # 128 at G 256->128" -- (C_in, C_out, k, OH) of the underlying conv2d weight gradient.
    from tensorgan.kernels.cuda import tiles
    layers = {"D 1->64": (1, 64, 4, 14), "D 64->128": (64, 128, 4, 7),
              "G 256->128": (128, 256, 4, 7), "G 128->64": (64, 128, 4, 14)}
    tiles_of = {name: -(-c_in * k * k // tiles.BM) * -(-c_out // tiles.BN)
                for name, (c_in, c_out, k, _) in layers.items()}
    assert tiles_of == {"D 1->64": 1, "D 64->128": 32, "G 256->128": 128, "G 128->64": 32}
    lengths = sorted(BATCH * oh * oh for *_, oh in layers.values())
    assert (lengths[0], lengths[-1]) == (3136, 12544)
