"""ReduceLROnPlateau's state dict has torch's keys (its derived mode_worse / default_min_lr too),
round-trips through tensorgan.save, and still loads states written without the derived keys."""
import math

import tensorgan as tg


def _scheduler(**kwargs):
    opt = tg.optim.SGD(tg.nn.Linear(1, 1).parameters(), lr=0.1)
    return tg.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)


def test_state_dict_keys_and_derived_values_as_torch():
    state = _scheduler(min_lr=0.01).state_dict()
    assert sorted(state) == ["_last_lr", "best", "cooldown", "cooldown_counter", "default_min_lr",
                             "eps", "factor", "last_epoch", "min_lrs", "mode", "mode_worse",
                             "num_bad_epochs", "patience", "threshold", "threshold_mode"]
    assert state["default_min_lr"] == 0.01 and state["mode_worse"] == math.inf
    state = _scheduler(mode="max", min_lr=[0.02]).state_dict()
    assert state["default_min_lr"] is None and state["mode_worse"] == -math.inf


def test_round_trip_through_save_and_older_states(tmp_path):
    sched = _scheduler(patience=0, min_lr=0.01)
    for metric in (1.0, 2.0, 3.0):
        sched.step(metric)
    tg.save(sched.state_dict(), tmp_path / "s.pt")
    other = _scheduler(patience=5)
    other.load_state_dict(tg.load(tmp_path / "s.pt"))
    assert other.state_dict() == sched.state_dict() and other.patience == 0
    older = {k: v for k, v in sched.state_dict().items() if k not in ("default_min_lr", "mode_worse")}
    third = _scheduler()
    third.load_state_dict(older)
    assert third.num_bad_epochs == sched.num_bad_epochs and third.min_lrs == [0.01]
