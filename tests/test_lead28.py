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
