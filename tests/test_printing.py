"""Tensors print as torch's: repr / str / format, print options, and grad_fn's node names.

Expected strings follow torch's printing rules (precision 4, one width per tensor, ``1.`` for
whole-number floats, scientific notation past a 1000x spread / 1e8 / 1e-4, summaries past
``threshold`` elements, wrapping at ``linewidth``, suffixes only for what the values do not show).
"""
import re

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


@pytest.fixture(autouse=True)
def _default_printoptions():
    yield
    tg.set_printoptions(profile="default")


@pytest.mark.parametrize("make, shown", [
    (lambda: tg.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
    (lambda: tg.tensor([1.5, -2.25, 0.125]), "tensor([ 1.5000, -2.2500,  0.1250])"),
    (lambda: tg.tensor([[1, 2], [3, 40]]), "tensor([[ 1,  2],\n        [ 3, 40]])"),
    (lambda: tg.tensor([True, False]), "tensor([ True, False])"),
    (lambda: tg.tensor(3.0), "tensor(3.)"),
    (lambda: tg.tensor(3), "tensor(3)"),
    (lambda: tg.tensor(-0.125), "tensor(-0.1250)"),
    (lambda: tg.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: tg.tensor([1.5, 2000.0]), "tensor([1.5000e+00, 2.0000e+03])"),
    (lambda: tg.tensor([1e9]), "tensor([1.0000e+09])"),
    (lambda: tg.tensor([float("nan"), float("inf"), -float("inf"), 1.0]), "tensor([nan, inf, -inf, 1.])"),
    (lambda: tg.tensor([float("nan"), 1.5]), "tensor([   nan, 1.5000])"),
    (lambda: tg.tensor([0.0, 0.0]), "tensor([0., 0.])"),
    (lambda: tg.ones(3, dtype=tg.float64), "tensor([1., 1., 1.], dtype=tensorgan.float64)"),
    (lambda: tg.ones(2, dtype=tg.int32), "tensor([1, 1], dtype=tensorgan.int32)"),
    (lambda: tg.ones(2, dtype=tg.uint8), "tensor([1, 1], dtype=tensorgan.uint8)"),
    (lambda: tg.ones(2, dtype=tg.float16), "tensor([1., 1.], dtype=tensorgan.float16)"),
    (lambda: tg.zeros(0), "tensor([])"),
    (lambda: tg.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: tg.zeros(0, dtype=tg.int64), "tensor([], dtype=tensorgan.int64)"),
    (lambda: tg.zeros(2, 0, dtype=tg.float64), "tensor([], size=(2, 0), dtype=tensorgan.float64)"),
    (lambda: tg.ones(2, requires_grad=True), "tensor([1., 1.], requires_grad=True)"),
    (lambda: tg.ones(2, requires_grad=True) * 2, "tensor([2., 2.], grad_fn=<MulBackward0>)"),
    (lambda: tg.tensor(2.0, requires_grad=True).sum(), "tensor(2., grad_fn=<SumBackward0>)"),
    (lambda: nn.Parameter(tg.ones(2)), "Parameter containing:\ntensor([1., 1.], requires_grad=True)"),
])
def test_repr_as_torch_prints_it(make, shown):
    t = make()
    assert repr(t) == shown and str(t) == shown


def test_summary_past_threshold_and_rows_wrapping():
    assert repr(tg.arange(2000)) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    m = repr(tg.arange(1200).reshape(40, 30))
    lines = m.split("\n")
    assert lines[0] == "tensor([[   0,    1,    2,  ...,   27,   28,   29],"
    assert lines[3] == "        ...," and lines[-1] == "        [1170, 1171, 1172,  ..., 1197, 1198, 1199]])"
    # 30 values of width 6 (+2): 9 a line at 80 columns, continuation lines indented under the '['
    wrapped = repr(tg.linspace(0, 1, 30)).split("\n")
    assert len(wrapped) == 4 and wrapped[1].startswith("        0.3103,") and all(len(x) <= 80 for x in wrapped)
    three = repr(tg.arange(24.0).reshape(2, 3, 4))
    assert "11.]],\n\n        [[12.," in three       # a blank line between the blocks of a 3-D tensor


def test_the_suffix_wraps_to_its_own_line_past_the_line_width():
    x = tg.linspace(0, 1, 8, dtype=tg.float64)
    shown = repr(x)
    assert shown.endswith("1.0000],\n       dtype=tensorgan.float64)")


def test_printoptions_precision_sci_mode_threshold_linewidth():
    x = tg.tensor([1.23456, 2.5])
    tg.set_printoptions(precision=2)
    assert repr(x) == "tensor([1.23, 2.50])"
    tg.set_printoptions(sci_mode=True)
    assert repr(x) == "tensor([1.23e+00, 2.50e+00])"       # precision stays; only sci_mode resets
    tg.set_printoptions(profile="default", sci_mode=False)
    assert repr(tg.tensor([1e-6, 1.0])) == "tensor([0.0000, 1.0000])"
    tg.set_printoptions(threshold=5, edgeitems=2)
    assert repr(tg.arange(10)) == "tensor([0, 1,  ..., 8, 9])"
    tg.set_printoptions(profile="default", linewidth=20)
    assert repr(tg.arange(6)) == "tensor([0, 1, 2, 3,\n        4, 5])"
    with tg.printoptions(precision=1):
        assert repr(x) == "tensor([1.2, 2.5])"
    assert tg.get_printoptions()["linewidth"] == 20 and repr(x) == "tensor([1.2346,\n        2.5000])"


def test_a_0d_tensor_formats_as_its_number():
    assert f"{tg.tensor(2.5)}" == "2.5" and f"{tg.tensor(7)}" == "7" and f"{tg.tensor(2.5):.1f}" == "2.5"
    with pytest.raises(TypeError, match="Tensor.__format__"):    # torch: a spec needs 0-d
        f"{tg.tensor([2.5]):.1f}"
    assert f"{tg.tensor([1.0, 2.0])}" == "tensor([1., 2.])"


def _name(y):
    return y.grad_fn.name()


def test_grad_fn_names_and_repr_are_torchs():
    x = tg.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4) - 5, requires_grad=True)
    w = tg.ones(4, 2, requires_grad=True)
    b = tg.ones(2, requires_grad=True)
    img = tg.ones(1, 2, 4, 4, requires_grad=True)
    names = {
        "AddBackward0": x + 1, "SubBackward0": x - x, "MulBackward0": x * 2, "DivBackward0": x / 3,
        "NegBackward0": -x, "PowBackward0": x ** 2, "ExpBackward0": x.exp(), "SumBackward0": x.sum(),
        "SumBackward1": x.sum(0), "MeanBackward0": x.mean(), "MeanBackward1": x.mean(1),
        "MmBackward0": x @ w, "DotBackward0": x[0] @ x[1], "MvBackward0": x @ x[0],
        "BmmBackward0": tg.bmm(x[None], w[None]), "ViewBackward0": x.view(12),
        "UnsqueezeBackward0": x.unsqueeze(0), "SqueezeBackward0": x[None].squeeze(),
        "SqueezeBackward1": x[None].squeeze(0), "TBackward0": x.t(), "PermuteBackward0": x.permute(1, 0),
        "TransposeBackward0": x.transpose(0, 1), "ExpandBackward0": x[:1].expand(3, 4),
        "CloneBackward0": x.clone(), "MaxBackward1": x.max(), "MaxBackward0": x.max(0)[0],
        "MinBackward1": x.min(), "AmaxBackward0": x.amax(1), "SelectBackward0": x[:, 1],
        "SliceBackward0": x[1:], "IndexBackward0": x[[0, 2]], "UnsqueezeBackward0 ": x[0, None],
        "CatBackward0": tg.cat([x, x]), "StackBackward0": tg.stack([x, x]), "ReluBackward0": F.relu(x),
        "SigmoidBackward0": x.sigmoid(), "TanhBackward0": x.tanh(), "LeakyReluBackward0": F.leaky_relu(x, 0.2),
        "SoftmaxBackward0": F.softmax(x, 1), "LogSoftmaxBackward0": F.log_softmax(x, 1),
        "AddmmBackward0": F.linear(x, w.t(), b), "ConvolutionBackward0": F.conv2d(img, tg.ones(3, 2, 3, 3)),
        "NativeBatchNormBackward0": F.batch_norm(img, None, None, training=True),
        "ToCopyBackward0": x.double(), "Log1PBackward0": (x * x).log1p(), "ClampBackward1": x.clamp(0, 1),
        "NllLossBackward0": F.cross_entropy(x, tg.tensor([0, 1, 2])),
        "BinaryCrossEntropyWithLogitsBackward0": F.binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
        "Exp2Backward0": x.exp2(), "FlipBackward0": x.flip(0),
    }
    wrong = {want.strip(): _name(y) for want, y in names.items() if _name(y) != want.strip()}
    assert not wrong
    y = x * 2
    assert re.fullmatch(r"<MulBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))
    assert type(y.grad_fn).__name__ == "Mul"                  # the op class keeps its own name


def test_grad_fn_name_after_backward_frees_the_graph_and_custom_functions():
    x = tg.ones(3, requires_grad=True)
    loss = (x * 2).mean()
    loss.backward()
    assert repr(loss) == "tensor(2., grad_fn=<MeanBackward0>)"

    class Double(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    y = Double.apply(x)
    assert y.grad_fn.name() == "DoubleBackward" and repr(y).endswith("grad_fn=<DoubleBackward>)")
    assert re.fullmatch(r"<tensorgan.autograd.function.DoubleBackward object at 0x[0-9a-f]+>", repr(y.grad_fn))


def test_pointwise_ops_have_a_callable_name():
    # special functions' op classes once had a string attribute ``name`` that hid name()
    x = tg.tensor([0.5, 1.5], requires_grad=True)
    assert x.exp2().grad_fn.name() == "Exp2Backward0" and tg.atan2(x, x).grad_fn.name() == "Atan2Backward0"
    assert tg.special.erfcx(x).grad_fn.name() == "ErfcxBackward0"
