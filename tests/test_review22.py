"""Session-22 review fixes (in-place history, ...).  Expected values from first principles."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import AutogradError


def f64(values, requires_grad=True):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def held_bytes(t):
    """Bytes of the old values a written tensor keeps for ops that used them (its history)."""
    entries = (getattr(t, "_history", None) or {}).values()
    olds = [e[0] if isinstance(e, tuple) else e for e in entries]
    return sum(o.array.nbytes for o in olds if any(o.array.strides))


def test_a_buffer_written_step_after_step_keeps_no_copies():
    w = f64(np.ones(1000))
    buf = tg.zeros(4, 1000, dtype=tg.float64)
    for step in range(12):
        buf.detach_()
        buf[step % 4] = w * 2           # a constant buffer: its old values send no gradient
        buf.sum().backward()
    assert held_bytes(buf) == 0
    np.testing.assert_array_equal(w.grad.numpy(), np.full(1000, 24.0))


def test_an_op_on_a_constant_buffer_before_it_was_written_with_a_gradient():
    w, x = f64([1.0, 2.0, 3.0]), f64([4.0, 5.0, 6.0])
    buf = tg.zeros(3, dtype=tg.float64)
    z = buf + w                          # buf needed no grad then: z sends it nothing
    buf.add_(x)
    (z.sum() + (buf * buf).sum()).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1, 1, 1])
    np.testing.assert_array_equal(x.grad.numpy(), [8, 10, 12])


def test_an_op_on_a_freed_old_value_still_refuses():
    x = f64([1.0, 2.0])
    y = x * 1
    s = y.sum()
    y.copy_(x * 2)
    s.backward()                         # frees y's old node
    y.copy_(x * 3)
    with pytest.raises(AutogradError):
        s.backward()
    x.grad = None
    y = x * 1
    used = (y * 3).sum()
    y.mul_(2)
    y.sum().backward()                   # frees the node used had
    y.copy_(x * 5)                       # later writes do not stand in for it
    for _ in range(3):
        y.mul_(1.0)
    with pytest.raises(AutogradError, match="freed"):
        used.backward()


def test_a_product_with_a_constant_before_the_write_gets_the_old_values_gradient():
    x = f64([1.0, 2.0, 3.0])
    c = tg.tensor(np.array([2.0, 3.0, 4.0]))        # needs no grad: x * c saves c, not x
    y = x * 1
    doubled, scaled, halved = y * 2, c * y, y / c
    y.mul_(x)                                        # y = x ** 2
    (doubled.sum() + scaled.sum() + halved.sum() + y.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 + np.array([2.0, 3.0, 4.0])
                               + 1 / np.array([2.0, 3.0, 4.0]) + 2 * np.array([1.0, 2.0, 3.0]))


def test_a_product_that_read_the_written_value_stays_refused():
    x, w = f64([1.0, 2.0]), f64([3.0, 4.0])
    for make in (lambda y: y * w, lambda y: w / y):   # w's gradient reads y's old value
        y = x * 1
        used = make(y)
        y.add_(1)
        with pytest.raises(AutogradError, match="modified in place"):
            (used.sum() + y.sum()).backward()


def test_a_write_under_no_grad_keeps_the_node_for_ops_that_saved_nothing():
    w = f64([1.0, 2.0])
    s = (w * 2).sum()                  # saved 2, not w (torch's MulBackward0 with a number)
    with tg.no_grad():
        w.mul_(2)                      # an optimizer-style update before backward
    s.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2, 2])
    x = f64([1.0, 2.0, 3.0])
    y = x * 1
    total = y.sum()
    y.detach().mul_(5)                 # through a .detach() alias: no node of y changes
    (total + y.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])


def test_an_untracked_write_then_a_tracked_one():
    x = f64([1.0, 2.0, 3.0])
    y = x * 1
    s = (y * 3).sum()                  # used y's node x * 1
    with tg.no_grad():
        y.add_(1)                      # values x + 1, node still x * 1
    y.mul_(x)                          # y = (x + 1) * x through that node
    (s + y.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), 3 + 2 * np.array([1.0, 2.0, 3.0]) + 1)


def test_an_in_place_view_op_keeps_earlier_ops_on_the_old_shape():
    x = f64([1.0, 2.0, 3.0])
    y = x * 1
    s = (y * 2).sum()
    y.unsqueeze_(0)                    # y is (1, 3) now, its node UnsqueezeBackward0
    (s + (y * y).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 + 2 * np.array([1.0, 2.0, 3.0]))


@pytest.mark.filterwarnings("ignore:Lazy modules")
def test_torch_private_bases_of_weighted_losses_and_lazy_norms():
    from tensorgan import nn
    from tensorgan.nn.modules import batchnorm, instancenorm, loss

    class Focal(loss._WeightedLoss):             # a custom loss on torch's base
        def __init__(self, weight=None, gamma=2.0):
            super().__init__(weight, reduction="sum")
            self.gamma = gamma

        def forward(self, logp, target):
            return nn.functional.nll_loss(logp, target, self.weight, reduction=self.reduction)

    f = Focal(tg.tensor([1.0, 3.0]))
    assert "weight" in dict(f.named_buffers()) and f.reduction == "sum"
    logp = tg.tensor([[-0.5, -1.0], [-2.0, -0.25]])
    assert f(logp, tg.tensor([1, 1])).item() == pytest.approx(3.0 * 1.0 + 3.0 * 0.25)
    weighted = [nn.BCELoss(), nn.CrossEntropyLoss(), nn.NLLLoss(), nn.MultiLabelSoftMarginLoss(),
                nn.MultiMarginLoss()]
    assert all(isinstance(m, loss._WeightedLoss) for m in weighted)
    assert not isinstance(nn.BCEWithLogitsLoss(), loss._WeightedLoss)   # torch's: a plain _Loss
    assert not isinstance(nn.MSELoss(), loss._WeightedLoss)
    assert isinstance(nn.LinearCrossEntropyLoss(4, 3), loss._WeightedLoss)
    with pytest.raises(Exception, match="one weight per class"):
        nn.NLLLoss(weight=[1.0, 2.0])
    assert isinstance(nn.LazyBatchNorm2d(), batchnorm._LazyNormBase)
    assert isinstance(nn.LazyInstanceNorm2d(), instancenorm._LazyNormBase)
    assert not isinstance(nn.BatchNorm2d(3), batchnorm._LazyNormBase)
    assert isinstance(nn.InstanceNorm2d(3), instancenorm._NormBase)
