"""Gaps found porting junyanz/pytorch-CycleGAN-and-pix2pix (models/networks.py, cycle_gan_model.py,
pix2pix_model.py, util/image_pool.py) and junyanz/BicycleGAN's networks to tensorgan: each test is
one thing those programs do that tensorgan got wrong or refused."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import InputTypeError

# (these tests step schedulers without an optimizer step on purpose: torch's order warning)
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before:UserWarning")


# -- InstanceNorm2d(momentum=None): torch's _NormBase accepts it --------------------------------
def test_instance_norm_momentum_none_never_updates_running_stats():
    # torch's instance norm passes momentum 0.0 when it is None: the running statistics stay at
    # their initial values (unlike batch norm's cumulative average), and it does not count batches.
    x = tg.tensor(np.random.RandomState(0).randn(2, 3, 4, 4).astype(np.float32) * 3 + 2)
    norm = nn.InstanceNorm2d(3, momentum=None, track_running_stats=True, affine=True)
    assert norm.momentum is None
    y = norm(x)
    np.testing.assert_array_equal(norm.running_mean.numpy(), np.zeros(3, np.float32))
    np.testing.assert_array_equal(norm.running_var.numpy(), np.ones(3, np.float32))
    assert int(norm.num_batches_tracked) == 0
    # the training output is still normalized with each instance's statistics
    a = y.detach().numpy()
    np.testing.assert_allclose(a.mean(axis=(2, 3)), 0.0, atol=1e-5)
    assert "momentum=None" in repr(norm)
    # and the plain module (no running statistics) builds too, as torch's
    assert nn.InstanceNorm2d(3, momentum=None)(x).shape == (2, 3, 4, 4)


def test_instance_norm_momentum_must_be_a_number():
    with pytest.raises(InputTypeError, match="momentum"):
        nn.InstanceNorm2d(3, momentum="0.1")


# -- LambdaLR state: torch's 'lr_lambdas' entry (CycleGAN's get_scheduler('linear') resumes) ----
class _Warmup:
    """A callable-object lr_lambda with state, as torch's docs' example."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self, epoch):
        self.calls += 1
        return min(1.0, (epoch + 1) / self.n)


def _sgd():
    return tg.optim.SGD([nn.Parameter(tg.zeros(2))], lr=1.0)


def test_lambda_lr_state_dict_has_torchs_lr_lambdas_entry():
    from tensorgan.optim import lr_scheduler
    warm = _Warmup(4)
    sched = lr_scheduler.LambdaLR(_sgd(), [warm])
    sched.step(); sched.step()
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"n": 4, "calls": 3}]      # the object's state, not the object
    assert lr_scheduler.LambdaLR(_sgd(), lambda e: 0.9 ** e).state_dict()["lr_lambdas"] == [None]
    assert lr_scheduler.MultiplicativeLR(_sgd(), lambda e: 0.9).state_dict()["lr_lambdas"] == [None]
    # loading merges the saved state back into this scheduler's own callable object
    other = _Warmup(10)
    resumed = lr_scheduler.LambdaLR(_sgd(), [other])
    resumed.load_state_dict(state)
    assert (other.n, resumed.last_epoch) == (4, 2)
    assert resumed.lr_lambdas == [other]
    resumed.step()
    assert resumed.get_last_lr() == [1.0]                    # min(1, (3 + 1) / 4)


def test_lambda_lr_loads_a_torch_layout_state_and_rejects_a_malformed_lr_lambdas():
    from tensorgan.errors import CheckpointError
    from tensorgan.optim import lr_scheduler
    # a torch LambdaLR(lr=2e-4, linear decay) state after 3 epochs, as torch writes it
    rule = lambda epoch: 1.0 - max(0, epoch + 1 - 2) / float(3 + 1)   # noqa: E731
    opt = tg.optim.Adam([nn.Parameter(tg.zeros(2))], lr=2e-4)
    sched = lr_scheduler.LambdaLR(opt, rule)
    torch_state = {"base_lrs": [2e-4], "last_epoch": 3, "_step_count": 4, "_is_initial": False,
                   "_get_lr_called_within_step": False, "_last_lr": [1e-4], "lr_lambdas": [None]}
    sched.load_state_dict(torch_state)
    assert "lr_lambdas" in torch_state                        # the caller's dict is left as it was
    sched.step()
    assert sched.get_last_lr() == pytest.approx([2e-4 * (1.0 - 3 / 4)])
    with pytest.raises(CheckpointError, match="lr_lambdas"):
        sched.load_state_dict(dict(torch_state, lr_lambdas=[None, None]))
