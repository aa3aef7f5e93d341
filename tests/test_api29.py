"""Session 29: API differences from torch 2.13 closed (devices, checkpoints, schedulers,
parametrizations, datasets)."""
import tensorgan as tg


# -- a device is never equal to a string, as torch's -----------------------------------------
def test_device_never_equals_a_string():
    # torch 2.13: device('cuda:0') == 'cuda', == 'cuda:0' and device('cpu') == 'cpu' are all False
    assert not tg.device("cuda:0") == "cuda" and not tg.device("cuda:0") == "cuda:0"
    assert tg.device("cpu") != "cpu" and "cpu" != tg.device("cpu")
    assert tg.device("cpu") == tg.device("cpu") and tg.zeros(1).device.type == "cpu"
    assert str(tg.zeros(1).device) == "cpu" and str(tg.device("cuda:0")) == "cuda:0"
