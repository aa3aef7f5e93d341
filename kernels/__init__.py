"""Hand-written kernels for tensorgan, three times over.

Installed as ``tensorgan.kernels`` (the folder is ``kernels/`` at the repository root; a top-level
package named ``kernels`` would collide with an unrelated PyPI package).

* ``reference/`` -- NumPy, written to be read. The specification; float64-capable.
* ``cpu/``       -- Numba/BLAS fast paths that the engine runs on the CPU.
* ``cuda/``      -- Numba CUDA kernels launched on CuPy arrays (or on NumPy arrays under
                    ``NUMBA_ENABLE_CUDASIM=1``).

Kernels know nothing about autograd or Tensors: plain arrays in, plain arrays out.  Every kernel
set exports the same functions with the same signatures (minitorch's "a backend is an object with
the same methods on each device"), checked by ``tensorgan.kernels.KERNEL_API``:

Convolution (NCHW; weight ``(C_out, C_in, kH, kW)``; ``stride``/``padding`` are ``(h, w)`` int pairs)::

    conv2d(x, w, b, stride, padding) -> y                       # b: (C_out,) array or None
    conv2d_grad_input(gy, w, input_hw, stride, padding) -> gx    # input_hw: (H, W) of x
    conv2d_grad_weight(x, gy, kernel_hw, stride, padding) -> gw
    conv2d_grad_bias(gy) -> gb                                    # sum over N, H, W
    conv2d_backward(x, gy, w, stride, padding, needs) -> (gx, gw, gb)
        # PyTorch's convolution_backward: the gradients needs = (input, weight, bias) asks for
        #   (None for the others), equal to the three functions above; a kernel set may share
        #   work between them (the CPU set sums the bias in the weight gradient's pass over gy)

Transposed convolution (weight ``(C_in, C_out, kH, kW)``; the adjoint of conv2d)::

    conv_transpose2d(x, w, b, stride, padding, output_padding) -> y
    conv_transpose2d_grad_input(gy, w, stride, padding) -> gx    # == conv2d(gy, w, None, ...)
    conv_transpose2d_grad_weight(x, gy, kernel_hw, stride, padding) -> gw
    conv_transpose2d_backward(x, gy, w, stride, padding, needs) -> (gx, gw, gb)
        # as conv2d_backward (gb = conv2d_grad_bias(gy)); the CPU set packs gy once for the
        #   input and weight gradients, which both multiply its im2col

Batch normalization over ``(N, C)`` or ``(N, C, H, W)``, statistics per channel (axis 1)::

    batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
        -> (y, mean, invstd)
        # training: normalise with the batch mean and *biased* variance; when running_mean /
        #   running_var are arrays, update them in place with momentum and the *unbiased* variance.
        # eval: normalise with running_mean / running_var; mean, invstd returned are those used.
        # weight / bias (C,) may be None (no affine transform).
    batch_norm_backward(gy, x, weight, mean, invstd, training) -> (gx, gweight, gbias)
        # weight None -> treated as ones; gweight/gbias are still returned.

Batch normalization fused with the leaky ReLU that follows it (every BatchNorm of the DCGAN)::

    batch_norm_leaky_relu(x, running_mean, running_var, weight, bias, training, momentum, eps,
                          negative_slope) -> (y, mean, invstd)
        # exactly leaky_relu(batch_norm(x, ...), negative_slope); mean / invstd and the running
        #   statistics' update exactly as batch_norm's.
    batch_norm_leaky_relu_backward(gy, x, weight, bias, mean, invstd, training, negative_slope)
        -> (gx, gweight, gbias)
        # recomputes the pre-activation z = (x - mean) * invstd * weight + bias for the mask
        #   (1 where z > 0, else slope) -- nothing beyond batch_norm's (x, mean, invstd) is kept;
        #   sign(y) would not do, negative_slope may be <= 0.  weight / bias None -> ones / zeros.

Leaky ReLU (elementwise)::

    leaky_relu(x, negative_slope) -> y
    leaky_relu_backward(gy, x, negative_slope) -> gx              # 1 where x > 0, else slope (PyTorch's)

Optimizer step (flat arrays of one dtype, updated in place; weight decay already in ``g``)::

    adam_update(p, g, m, v, lr, beta1, beta2, eps, step) -> None
        # m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
        # p -= lr/(1-b1^step) * m / (sqrt(v)/sqrt(1-b2^step) + eps)     (PyTorch's Adam)
    lerp_update(a, end, weight, out) -> None
        # out = a + weight (end - a) where |weight| < 0.5, else end - (end - a)(1 - weight):
        #   torch.lerp, the running average of weights (an EMA of the generator,
        #   p_ema.lerp_(p, 1 - beta)); weight a Python number; out may be a (in place)

Arguments are validated by ``tensorgan.functional`` (by the optimizer, for ``adam_update``);
kernels may assume valid, C-contiguous input of one float dtype and return fresh arrays of that
dtype (``adam_update`` writes into its p, m and v, ``lerp_update`` into its out instead). The
convolutions take any memory layout all the same, as the reference's do (the CPU set copies a
non-C-contiguous argument once at its entry point: a no-op check, ~0.5 us, for the C-contiguous
arrays ``tensorgan.functional`` passes).
"""

KERNEL_API = (
    "conv2d",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "conv2d_grad_bias",
    "conv2d_backward",
    "conv_transpose2d",
    "conv_transpose2d_grad_input",
    "conv_transpose2d_grad_weight",
    "conv_transpose2d_backward",
    "batch_norm",
    "batch_norm_backward",
    "batch_norm_leaky_relu",
    "batch_norm_leaky_relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "adam_update",
    "lerp_update",
)
