"""Session 30 review of the engine's no-copy seeds (h30u) and channels_last relayouts (h30s):
no op's backward writes into the gradient it receives -- backward(g) now hands the walk the
caller's own array -- and the gradients handed back never alias the caller's g or each other."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F


def _t(rng, *shape, dtype=np.float32, grad=True):
    return tg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=grad)


def _ops(rng, dtype):
    """name -> (inputs, fn): the ops with fused / Numba backward kernels and the losses."""
    x = _t(rng, 4, 8, 8, 8, dtype=dtype)
    w, b = _t(rng, 8, dtype=dtype), _t(rng, 8, dtype=dtype)
    rm, rv = tg.zeros(8, dtype=x.dtype), tg.ones(8, dtype=x.dtype)
    cw = _t(rng, 6, 8, 3, 3, dtype=dtype)
    dw = _t(rng, 8, 1, 3, 3, dtype=dtype)
    tw = _t(rng, 8, 6, 4, 4, dtype=dtype)
    y = tg.tensor(rng.standard_normal((4, 8, 8, 8)).astype(dtype))
    labels = tg.tensor(rng.integers(0, 8, 4))
    return {
        "batch_norm_leaky_relu": ((x, w, b), lambda x, w, b: F.batch_norm_leaky_relu(
            x, rm, rv, w, b, training=True, negative_slope=0.2)),
        "batch_norm": ((x, w, b), lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True)),
        "leaky_relu": ((x,), lambda x: F.leaky_relu(x, 0.2)),
        "gelu": ((x,), F.gelu), "gelu_tanh": ((x,), lambda x: F.gelu(x, approximate="tanh")),
        "silu": ((x,), F.silu), "mish": ((x,), F.mish), "elu": ((x,), F.elu),
        "softplus": ((x,), F.softplus), "hardswish": ((x,), F.hardswish),
        "group_norm": ((x, w, b), lambda x, w, b: F.group_norm(x, 4, w, b)),
        "layer_norm": ((x,), lambda x: F.layer_norm(x, (8, 8, 8))),
        "instance_norm": ((x,), F.instance_norm),
        "conv2d": ((x, cw), lambda x, cw: F.conv2d(x, cw, padding=1)),
        "conv2d_stride": ((x, cw), lambda x, cw: F.conv2d(x, cw, stride=2, padding=1)),
        "depthwise_conv2d": ((x, dw), lambda x, dw: F.conv2d(x, dw, padding=1, groups=8)),
        "conv_transpose2d": ((x, tw), lambda x, tw: F.conv_transpose2d(x, tw, stride=2, padding=1)),
        "max_pool2d": ((x,), lambda x: F.max_pool2d(x, 2)),
        "avg_pool2d": ((x,), lambda x: F.avg_pool2d(x, 2)),
        "softmax": ((x,), lambda x: F.softmax(x, 1)),
        "log_softmax": ((x,), lambda x: F.log_softmax(x, 1)),
        "bce_logits_none": ((x,), lambda x: F.binary_cross_entropy_with_logits(
            x, y.sigmoid(), reduction="none")),
        "mse_none": ((x,), lambda x: F.mse_loss(x, y, reduction="none")),
        "l1_none": ((x,), lambda x: F.l1_loss(x, y, reduction="none")),
        "smooth_l1_none": ((x,), lambda x: F.smooth_l1_loss(x, y, reduction="none")),
        "cross_entropy_none": ((x,), lambda x: F.cross_entropy(
            x.reshape(4, -1)[:, :8], labels, reduction="none")),
        "bce_logits_mean": ((x,), lambda x: F.binary_cross_entropy_with_logits(x, y.sigmoid())),
        "mse_mean": ((x,), lambda x: F.mse_loss(x, y)),
        "cross_entropy_mean": ((x,), lambda x: F.cross_entropy(x.reshape(4, -1)[:, :8], labels)),
    }


NAMES = sorted(_ops(np.random.default_rng(0), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_own_backward_leaves_the_callers_gradient_alone(name, dtype):
    rng = np.random.default_rng(1)
    inputs, fn = _ops(rng, dtype)[name]
    for channels_last in (False, True):
        if channels_last and inputs[0].ndim != 4:
            continue
        x0 = inputs[0].detach().contiguous(memory_format=tg.channels_last) if channels_last \
            else inputs[0]
        if channels_last:
            x0.requires_grad_(True)
        args = (x0,) + tuple(inputs[1:])
        out = fn(*args)
        g = tg.tensor(rng.standard_normal(out.shape).astype(dtype))
        before = g.numpy().copy()
        grads = tg.autograd.grad(out, args, g, retain_graph=True)
        np.testing.assert_array_equal(g.numpy(), before, err_msg=f"{name}: grad wrote into g")
        out.backward(g)
        np.testing.assert_array_equal(g.numpy(), before, err_msg=f"{name}: backward wrote into g")
        handed = [t.numpy() for t in grads] + [a.grad.numpy() for a in args]
        for i, h in enumerate(handed):          # nothing handed back aliases g or another one
            assert not np.shares_memory(h, g.numpy()), f"{name}: gradient {i} aliases g"
            for other in handed[i + 1:]:
                assert not np.shares_memory(h, other), f"{name}: gradients {i} alias each other"
        for a in args:
            a.grad = None


def test_custom_function_writing_its_incoming_grad_writes_the_callers_g():
    """torch's engine hands a custom backward the caller's g itself (torch 2.13: g becomes 2s);
    the leaf's .grad then copies it (written afterwards, g stays), and autograd.grad's result is
    a copy too (torch returns g itself)."""
    class Twice(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.mul_(2)

    x = tg.ones(3, dtype=tg.float64, requires_grad=True)
    g = tg.ones(3, dtype=tg.float64)
    Twice.apply(x).backward(g)
    with tg.no_grad():
        x.grad.add_(100)
    assert g.tolist() == [2.0] * 3 and x.grad.tolist() == [102.0] * 3
    g = tg.ones(3, dtype=tg.float64)
    r, = tg.autograd.grad(Twice.apply(x), x, g)
    with tg.no_grad():
        r.add_(100)
    assert g.tolist() == [2.0] * 3 and r.tolist() == [102.0] * 3


def _random_graph(rng, leaves, v):
    """~40 ops over (4, 6) tensors: views, Add's shared g, broadcasts, in-place ops, hooks."""
    def inplace(a, b):
        c = a * 1.0
        c.add_(b)
        c[1:3].mul_(2.0)
        return c
    ops = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a + v,
           lambda a, b: a.sum(0, keepdim=True).expand(4, 6), lambda a, b: a[:1].expand(4, 6) * b,
           lambda a, b: a.reshape(24).reshape(4, 6), lambda a, b: a.t().contiguous().t(),
           lambda a, b: a.view(4, 6), lambda a, b: tg.cat([a[:2], a[2:]], 0), lambda a, b: a.tanh(),
           inplace, lambda a, b: a.mean() + b, lambda a, b: tg.stack([a, b]).sum(0),
           lambda a, b: a.permute(1, 0).permute(1, 0), lambda a, b: a.clone()]
    pool, retained = list(leaves), []
    for _ in range(40):
        a, b = (pool[j] for j in rng.integers(0, len(pool), 2))
        t = ops[rng.integers(len(ops))](a, b)
        r = rng.random()
        if r < 0.05:
            t.register_hook(lambda g: g * 2.0)
        elif r < 0.1:
            t.register_hook(lambda g: None)
        elif r < 0.15:
            t.retain_grad()
            retained.append(t)
        elif r < 0.2:
            t.grad_fn.register_prehook(lambda go: (go[0] * 1.25,))
        pool.append(t)
        if len(pool) > 10:
            pool.pop(int(rng.integers(3, len(pool) - 4)))
    return pool, retained


def _writes_stay_apart(targets, watched):
    """Writing each target in place changes none of the other watched tensors."""
    watched = {id(t): t for t in list(targets) + list(watched)}
    for t in targets:
        snap = {k: w.detach().numpy().copy() for k, w in watched.items()}
        with tg.no_grad():
            t.add_(1000.0)
        for k, w in watched.items():
            assert k == id(t) or np.array_equal(w.detach().numpy(), snap[k])


@pytest.mark.parametrize("mode", ["backward_twice", "grad", "sgd", "backward_inputs"])
def test_fuzz_handed_back_gradients_never_alias(mode):
    for seed in range(12):
        rng = np.random.default_rng(seed)
        leaves = [tg.tensor(rng.standard_normal((4, 6)), requires_grad=True) for _ in range(3)]
        v = tg.tensor(rng.standard_normal(6), requires_grad=True)
        pool, retained = _random_graph(rng, leaves, v)
        out, out2 = pool[-1], pool[-2]
        g = tg.tensor(rng.standard_normal((6, 4))).t() if seed % 2 else \
            tg.tensor(rng.standard_normal((4, 6)))
        g2 = tg.tensor(rng.standard_normal((4, 6)))
        params, returned = leaves + [v], []
        if mode == "backward_twice":
            out.backward(g, retain_graph=True)
            out2.backward(g2, retain_graph=True)
        elif mode == "grad":
            ins = [leaves[0], pool[5], leaves[1], leaves[0], v, pool[6], pool[5]]
            returned = [r for r in tg.autograd.grad([out, out2], ins, [g, g2], retain_graph=True,
                                                    allow_unused=True) if r is not None]
        elif mode == "sgd":
            opt = tg.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1)
            out.backward(g, retain_graph=True)
            opt.step()
        else:
            out.backward(g, inputs=[leaves[0], pool[5], v, leaves[0]], retain_graph=True)
        grads = [t.grad for t in params + retained if t.grad is not None]
        _writes_stay_apart(returned + grads + [g, g2], params + pool)
