"""Output-size arithmetic shared by every kernel set and by the argument checks."""


def conv2d_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Length of one spatial axis after a convolution: floor((H + 2p - k) / s) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_transpose2d_output_size(size: int, kernel: int, stride: int, padding: int,
                                 output_padding: int = 0) -> int:
    """Length of one spatial axis after a transposed convolution: (H - 1)s - 2p + k + op."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding
