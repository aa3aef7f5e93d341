"""tg.get_rng_state() / Generator.get_state() return a uint8 tensor, as torch's ByteTensor:
``.clone()``, ``tg.save`` and ``set_rng_state`` take it; other bytes are refused by name."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import CheckpointError


def test_get_rng_state_is_a_uint8_tensor_that_restores_the_stream():
    tg.manual_seed(11)
    state = tg.get_rng_state()
    assert isinstance(state, tg.Tensor) and state.dtype == tg.uint8 and state.ndim == 1
    saved = state.clone()
    first = tg.randn(5).numpy()
    tg.set_rng_state(saved)
    np.testing.assert_array_equal(tg.randn(5).numpy(), first)


def test_generator_state_round_trips_through_a_checkpoint(tmp_path):
    g = tg.Generator().manual_seed(3)
    g.normal((4,))
    tg.save({"rng": g.get_state()}, tmp_path / "s.pt")
    expected = g.normal((6,))
    h = tg.Generator().manual_seed(99)
    h.set_state(tg.load(tmp_path / "s.pt")["rng"])
    np.testing.assert_array_equal(h.normal((6,)), expected)
    h.set_state(g.state_dict_form())            # the plain dict form still works
    np.testing.assert_array_equal(h.normal((3,)), g.normal((3,)))


@pytest.mark.parametrize("bad, match", [
    (tg.zeros(5056, dtype=tg.uint8), "not a tensorgan PCG64 generator state"),   # torch's size
    (tg.zeros(2, 3, dtype=tg.uint8), "1-D uint8"),
    (tg.zeros(4), "1-D uint8"),
])
def test_other_states_are_refused_by_name(bad, match):
    from tensorgan.random import default_generator
    before = default_generator.state_dict_form()
    with pytest.raises(CheckpointError, match=match):
        tg.set_rng_state(bad)
    assert default_generator.state_dict_form() == before


def test_fork_rng_restores_the_stream_on_exit_and_on_error():
    tg.manual_seed(5)
    expected = tg.randn(4).numpy()
    tg.manual_seed(5)
    with tg.random.fork_rng():
        tg.randn(50)
    np.testing.assert_array_equal(tg.randn(4).numpy(), expected)
    tg.manual_seed(5)
    with pytest.raises(KeyError):
        with tg.random.fork_rng(devices=[]):
            tg.rand(7)
            raise KeyError("inside")
    np.testing.assert_array_equal(tg.randn(4).numpy(), expected)


def test_fork_rng_disabled_forks_nothing():
    tg.manual_seed(6)
    tg.randn(3)
    after_three = tg.get_rng_state()
    tg.manual_seed(6)
    with tg.random.fork_rng(enabled=False):
        tg.randn(3)
    assert tg.equal(tg.get_rng_state(), after_three)
