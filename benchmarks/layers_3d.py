"""The 3-D convolutions (``tensorgan/conv3d.py``: on the CPU the depth fold onto the 2-D kernels,
else NumPy/CuPy im2col + one BLAS matmul per group) beside PyTorch's, timed round-robin in one
process.

    python -m benchmarks.layers_3d --repeats 7 --batch 8       # --json [PATH], --no-torch

Each row is a voxel-GAN-sized layer: forward alone, then forward + backward (input and weight
gradients) of ``layer(x).sum()``; medians of warmed-up repeats and the ratio to torch (same
threads, float32).  Without torch installed, tensorgan's times alone.
"""
from __future__ import annotations

from ._common import layer_table

# (name, transposed, in channels, out channels, kernel, stride, padding, input edge)
LAYERS = [("ConvTranspose3d 32->16 k4 s2", True, 32, 16, 4, 2, 1, 16),
          ("Conv3d 16->32 k4 s2", False, 16, 32, 4, 2, 1, 32),
          ("Conv3d 32->32 k3 s1", False, 32, 32, 3, 1, 1, 16)]


def _contenders(spec: tuple, batch: int, torch) -> dict:
    import tensorgan as tg
    from tensorgan import nn
    _, transposed, c_in, c_out, k, s, p, edge = spec
    layer = (nn.ConvTranspose3d if transposed else nn.Conv3d)(c_in, c_out, k, stride=s, padding=p)
    x = tg.randn(batch, c_in, edge, edge, edge, requires_grad=True)
    fns = {"tensorgan fwd": lambda: layer(x), "tensorgan fwd+bwd": lambda: layer(x).sum().backward()}
    if torch is not None:
        t_layer = (torch.nn.ConvTranspose3d if transposed else torch.nn.Conv3d)(c_in, c_out, k, stride=s, padding=p)
        tx = torch.randn(batch, c_in, edge, edge, edge, requires_grad=True)
        fns.update({"torch fwd": lambda: t_layer(tx), "torch fwd+bwd": lambda: t_layer(tx).sum().backward()})
    return fns


def main(argv=None) -> dict:
    return layer_table(argv, __doc__.split("\n\n")[0], "3-D convolutions", LAYERS, _contenders,
                       lambda spec: f"{spec[0]} ({spec[7]}^3)", default_batch=8)


if __name__ == "__main__":
    main()
