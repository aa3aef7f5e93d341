"""Session-26 review: regressions found reviewing the session's merged changes (backward order,
conv3d depth fold, mse_loss node, custom-Function gradient copies)."""
import numpy as np
import pytest

import tensorgan as tg


def _hook_order(tensors: dict) -> list:
    log = []
    for name, t in tensors.items():
        t.register_hook(lambda g, name=name: log.append(name))
    return log


def test_view_written_in_place_runs_as_a_new_node():
    # torch regenerates a view's grad_fn after a write into it: the new node is the newest, so
    # its hook fires before those of tensors recorded before the write (was last: the view kept
    # its first number)
    a, b = (tg.tensor(np.arange(4.0) + k, dtype=tg.float64, requires_grad=True) for k in range(2))
    v = tg.cat([a, b])[2:6]
    first, second = a.sin(), b * 0.5       # recorded in that order, before the write
    v.mul_(1.5)
    log = _hook_order({"v": v, "first": first, "second": second})
    ((v * v).sum() + (second * second).sum() + (first * first).sum()).backward()
    assert log == ["v", "second", "first"]       # torch 2.13's order
    expected_a = np.zeros(4)
    expected_a[2:] = 2 * 1.5 * 1.5 * np.arange(2.0, 4.0)
    expected_a += 2 * np.sin(np.arange(4.0)) * np.cos(np.arange(4.0))
    np.testing.assert_allclose(a.grad.numpy(), expected_a)


def _conv3d_reference(x: np.ndarray, w: np.ndarray, stride: tuple, padding: tuple, dilation: tuple):
    """Direct 3-D cross-correlation in NumPy (one group)."""
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    k = w.shape[2:]
    out = [(xp.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(3)]
    y = np.zeros((x.shape[0], w.shape[0], *out))
    for t in np.ndindex(*k):
        sl = tuple(slice(t[i] * dilation[i], t[i] * dilation[i] + stride[i] * (out[i] - 1) + 1, stride[i])
                   for i in range(3))
        y += np.einsum("nc...,oc->no...", xp[(slice(None), slice(None)) + sl], w[(slice(None), slice(None)) + t])
    return y


def test_conv3d_depth_fold_empty_batch():
    # the depth fold reshaped its (N * oD) planes with -1 and ran the 2-D kernels on a batch
    # of 0: ValueError; an empty operand takes the column path (as before the fold)
    x = tg.zeros(0, 2, 5, 3, 3, dtype=tg.float64, requires_grad=True)
    w = tg.randn(2, 2, 2, 3, 2, dtype=tg.float64, requires_grad=True)
    y = tg.nn.functional.conv3d(x, w, None, (1, 1, 3), (1, 0, 0), (2, 1, 1))
    assert y.shape == (0, 2, 5, 1, 1)
    y.sum().backward()
    assert x.grad.shape == x.shape and not w.grad.numpy().any()
    t = tg.nn.functional.conv_transpose3d(x, tg.randn(2, 3, 2, 2, 2, dtype=tg.float64), stride=2)
    assert t.shape == (0, 3, 10, 6, 6)


def test_conv3d_depth_fold_adversarial_geometry():
    # depth padding above the kernel, stride above the kernel, depth dilation, a non-contiguous
    # float32 input: against a direct NumPy convolution, and its gradients by gradcheck (float64)
    rs = np.random.RandomState(0)
    for stride, padding, dilation, shape in [((2, 1, 2), (4, 1, 0), (2, 1, 1), (2, 2, 5, 4, 4)),
                                            ((4, 1, 1), (1, 0, 1), (1, 1, 1), (1, 2, 7, 3, 3))]:
        x = rs.randn(*shape)
        w = rs.randn(3, shape[1], 3, 2, 2)
        xt = tg.tensor(np.ascontiguousarray(x.transpose(0, 1, 4, 3, 2)), dtype=tg.float32)
        y = tg.nn.functional.conv3d(xt.permute(0, 1, 4, 3, 2), tg.tensor(w, dtype=tg.float32),
                                    None, stride, padding, dilation)
        np.testing.assert_allclose(y.numpy(), _conv3d_reference(x, w, stride, padding, dilation),
                                   rtol=1e-4, atol=1e-4)
    x64 = tg.tensor(x, dtype=tg.float64, requires_grad=True)
    w64 = tg.tensor(w, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda a, b: tg.nn.functional.conv3d(a, b, None, stride, padding, dilation),
                                     (x64, w64))


def test_gradcheck_perturbs_a_non_contiguous_input():
    # gradcheck wrote its perturbation into reshape(-1) of the input: a copy when the input is
    # not contiguous, so the numeric gradient was 0 and a right gradient failed
    xt = tg.tensor(np.random.RandomState(1).randn(2, 3, 4), dtype=tg.float64).permute(2, 0, 1)
    x = xt.requires_grad_()
    assert not x.is_contiguous()
    assert tg.autograd.gradcheck(lambda a: a * a.sum(0), (x,))
    assert tg.autograd.gradgradcheck(lambda a: a * a.sum(0), (x,))


def test_mse_loss_mixed_dtypes_one_node_in_the_wider_dtype():
    # torch's F.mse_loss broadcasts first, so a 0-d float64 target widens a float32 input (the
    # loss was float32: the 0-d promotion rule); mixed or integer targets are one
    # MseLossBackward0 node too (were Pow / Mean), each gradient in its input's dtype
    x = tg.tensor([[1.0, 2.0, 4.0], [0.5, 0.0, -1.0]], dtype=tg.float32, requires_grad=True)
    t = tg.tensor(0.25, dtype=tg.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="target size"):    # (torch's broadcast warning)
        loss = tg.nn.functional.mse_loss(x, t)
    assert loss.dtype == tg.float64 and loss.grad_fn.name() == "MseLossBackward0"
    loss.backward()
    d = x.detach().numpy().astype(np.float64) - 0.25
    np.testing.assert_allclose(loss.item(), (d * d).mean())
    assert x.grad.dtype == tg.float32 and t.grad.dtype == tg.float64
    np.testing.assert_allclose(x.grad.numpy(), 2 * d / 6, rtol=1e-6)
    np.testing.assert_allclose(t.grad.item(), -2 * d.sum() / 6)
    with pytest.warns(UserWarning, match="target size"):
        y = tg.nn.functional.mse_loss(x, tg.tensor([1, 2, 3]), reduction="sum")
    assert y.dtype == tg.float32 and y.grad_fn.name() == "MseLossBackward0"
    np.testing.assert_allclose(y.item(), ((x.detach().numpy() - [1, 2, 3]) ** 2).sum(), rtol=1e-6)


def test_leaf_gradients_accumulate_as_soon_as_their_last_consumer_ran():
    # torch runs a leaf's AccumulateGrad (highest priority) right after its last consumer, leaves
    # in input order: w before sin's node for w * x.sin() -- the walk ran it after sin's subgraph
    x, w, b = (tg.tensor(np.full(3, v), requires_grad=True) for v in (1.0, 2.0, 3.0))
    a = x.sin()
    y = w * a + b
    log = _hook_order({"x": x, "w": w, "a": a, "b": b})
    y.sum().backward()
    assert log == ["b", "w", "a", "x"]                    # torch 2.13's order
    p, q = (tg.tensor(np.ones(2), requires_grad=True) for _ in range(2))
    log = _hook_order({"p": p, "q": q})
    (p * q).sum().backward()
    assert log == ["p", "q"]


class _GradFromCtxAttribute(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(y)
        ctx.twice_y = y * 2                        # held on ctx, not saved
        return x * y

    @staticmethod
    def backward(ctx, g):
        return ctx.saved_tensors[0], ctx.twice_y   # (deliberately wrong values: memory is the point)


def test_custom_function_gradient_held_as_a_ctx_attribute_is_copied():
    # torch's AccumulateGrad copies a gradient something else references: zeroing y.grad wrote
    # ctx.twice_y, so a retained second backward gave 0 (only saved / input / output memory
    # was copied)
    x = tg.ones(3, requires_grad=True)
    y = tg.full((3,), 2.0, requires_grad=True)
    out = _GradFromCtxAttribute.apply(x, y)
    out.sum().backward(retain_graph=True)
    x.grad.zero_()
    y.grad.zero_()
    x.grad = y.grad = None
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(y.grad.numpy(), [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(y.numpy(), [2.0, 2.0, 2.0])
