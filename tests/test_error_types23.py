"""A hyperparameter of the wrong kind is torch's TypeError (and still tensorgan's ConfigError); a
value of the right kind out of range stays a ValueError only."""
import pytest

import tensorgan.nn as nn
import tensorgan.nn.functional as F
import tensorgan as tg
from tensorgan.errors import ConfigError, ConfigTypeError


@pytest.mark.parametrize("make, words", [
    (lambda: nn.Linear(2.0, 3), "in_features must be a non-negative integer, got 2.0"),
    (lambda: nn.Conv2d(3.0, 4, 3), "in_channels must be a non-negative integer, got 3.0"),
    (lambda: nn.Conv2d(3, 4, 2.5), "kernel_size must be an int or a pair of ints, got 2.5"),
    (lambda: nn.ConvTranspose2d(3, 4, (2, "a")), "kernel_size must be an int or a pair of ints"),
    (lambda: nn.BatchNorm2d(4.0), "num_features must be a non-negative integer, got 4.0"),
    (lambda: nn.Embedding(3.0, 2), "num_embeddings must be a non-negative integer, got 3.0"),
    (lambda: F.max_pool2d(tg.zeros(1, 1, 4, 4), 1.5), "kernel_size must be an int or a pair of ints"),
])
def test_wrong_kind_is_a_type_error_and_a_config_error(make, words):
    with pytest.raises(TypeError, match=words) as info:
        make()
    assert isinstance(info.value, ConfigTypeError) and isinstance(info.value, ConfigError)


@pytest.mark.parametrize("make, words", [
    (lambda: nn.Linear(-1, 3), "in_features must be a non-negative integer, got -1"),
    (lambda: nn.Conv2d(3, 4, (2, 2, 2)), "kernel_size must be an int or a pair of ints"),
    (lambda: nn.Conv2d(3, 4, 0), "kernel_size must be >= 1"),
])
def test_right_kind_wrong_value_is_a_value_error_only(make, words):
    with pytest.raises(ValueError, match=words) as info:
        make()
    assert not isinstance(info.value, TypeError)


def test_extra_state_hooks_not_overridden_raise_a_runtime_error():
    from tensorgan.errors import NotOverriddenError
    for call in (lambda: nn.Linear(1, 1).get_extra_state(), lambda: nn.Linear(1, 1).set_extra_state({})):
        with pytest.raises(RuntimeError, match="only called for modules that override it") as info:
            call()
        assert isinstance(info.value, NotOverriddenError) and isinstance(info.value, NotImplementedError)
