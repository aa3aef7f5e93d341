"""Session 28, the lead's own fixes."""
import pytest

import tensorgan as tg
from tensorgan.errors import ConfigError


@pytest.mark.parametrize("make", [lambda ps: tg.optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: tg.optim.Adam(ps, lr=1e-3)], ids=["SGD", "Adam"])
def test_an_optimizer_loads_its_own_checkpoint_after_a_scheduler_set_a_negative_lr(make):
    """A scheduler chain can push lr below 0 (torch's too); the checkpoint must load again --
    only the constructor refuses lr < 0, as torch's."""
    p = tg.nn.Parameter(tg.ones(3))
    opt = make([p])
    p.grad = tg.ones(3)
    opt.step()
    opt.param_groups[0]["lr"] = -0.01
    saved = opt.state_dict()
    fresh = make([tg.nn.Parameter(tg.ones(3))])
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == -0.01
    with pytest.raises(ConfigError, match="lr must be >= 0"):
        make([p]).add_param_group({"params": [tg.nn.Parameter(tg.ones(1))], "lr": -1.0})
    with pytest.raises(ConfigError, match="lr must be >= 0"):
        type(opt)([p], lr=-1.0)


def test_diagonal_of_a_dense_permuted_clone_is_a_view():
    """clone() keeps a permuted layout (preserve_format), so the clone owns memory that is neither
    C- nor F-contiguous; its diagonal must still be a view: a write through either side shows in
    the other (it was a copy, and writes into it were silently lost)."""
    import numpy as np
    y = tg.tanh(tg.randn(2, 1, 3, 4, seed=0)).mT.clone()
    assert not y.is_contiguous()
    d = y.diagonal(0, 2, 0)
    y.mul_(2)
    np.testing.assert_array_equal(d.numpy(), np.diagonal(y.numpy(), 0, 2, 0))
    d.fill_(-1.0)
    assert (np.diagonal(y.numpy(), 0, 2, 0) == -1).all()


def test_writing_the_diagonal_of_a_permuted_clone_has_the_right_gradient():
    def f(x):
        y = x.permute(2, 0, 1).clone()
        y.diagonal().mul_(3.0)
        return (y * tg.arange(60.0, dtype=x.dtype).reshape(5, 3, 4)).sum()
    x = tg.randn(3, 4, 5, dtype="float64", seed=1, requires_grad=True)
    assert tg.gradcheck(f, [x])
