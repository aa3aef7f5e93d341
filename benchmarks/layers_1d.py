"""Audio-GAN-sized 1-D convolutions (HiFi-GAN / MelGAN shapes: ``F.conv1d`` runs the 2-D CPU
kernels on height-1 inputs) beside PyTorch's, timed round-robin in one process.

    python -m benchmarks.layers_1d --repeats 7 --batch 2      # --json [PATH], --no-torch

Rows: a wide layer on few positions (the weight gradient summed over N*L < 2048 positions: the
GEMM is not flipped, see ``kernels/cpu/_pack.py``'s FLIP_MIN_REDUCTION), a k7 layer, dilated
resblock convs (stride-1 dilation runs the plain kernel on the input's phases:
``tensorgan/functional.py``'s ``_dilated_by_phases``), an upsampling transposed conv and a
grouped discriminator conv (the batched grouped path).  Forward alone, then forward + backward
(input and weight gradients) of ``layer(x).sum()``; medians of warmed-up repeats, float32, the
same threads in both.  Without torch installed, tensorgan's times alone.
"""
from __future__ import annotations

from ._common import layer_table

# (name, transposed, in ch, out ch, kernel, stride, padding, dilation, groups, length)
LAYERS = [("Conv1d 1024->1024 k5", False, 1024, 1024, 5, 1, 2, 1, 1, 8),
          ("Conv1d 512->512 k7", False, 512, 512, 7, 1, 3, 1, 1, 32),
          ("Conv1d 256->256 k11 d5", False, 256, 256, 11, 1, 25, 5, 1, 256),
          ("Conv1d 128->128 k3 d3", False, 128, 128, 3, 1, 3, 3, 1, 1024),
          ("ConvTranspose1d 256->128 k16 s8", True, 256, 128, 16, 8, 4, 1, 1, 64),
          ("Conv1d 256->256 k41 s4 groups 64", False, 256, 256, 41, 4, 20, 1, 64, 1024)]


def _contenders(spec: tuple, batch: int, torch) -> dict:
    import tensorgan as tg
    from tensorgan import nn
    _, transposed, c_in, c_out, k, s, p, d, g, length = spec

    def make(module):
        if transposed:
            return module.ConvTranspose1d(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=g)
        return module.Conv1d(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=g)
    layer = make(nn)
    x = tg.randn(batch, c_in, length, requires_grad=True)
    fns = {"tensorgan fwd": lambda: layer(x), "tensorgan fwd+bwd": lambda: layer(x).sum().backward()}
    if torch is not None:
        t_layer = make(torch.nn)
        tx = torch.randn(batch, c_in, length, requires_grad=True)
        fns.update({"torch fwd": lambda: t_layer(tx), "torch fwd+bwd": lambda: t_layer(tx).sum().backward()})
    return fns


def main(argv=None) -> dict:
    return layer_table(argv, __doc__.split("\n\n")[0], "1-D convolutions", LAYERS, _contenders,
                       lambda spec: f"{spec[0]} (L {spec[9]})", default_batch=2)


if __name__ == "__main__":
    main()
