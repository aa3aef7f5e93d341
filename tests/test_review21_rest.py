"""Review of session 21's non-core changes (amp, testing, CLI, data, fileio): each test fails
without the fix it names."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

import tensorgan as tg
from tensorgan.cli import main
from tensorgan.errors import ConfigError, DeviceError


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "images"
    root.mkdir()
    rng = np.random.default_rng(1)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(root / f"{i}.png")
    return root


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("tensorgan: error: ") and "Traceback" not in err, err
    assert err.count("\n") == 1, err
    return err


# -- amp.custom_fwd(cast_inputs=...) casts as torch's _cast ---------------------------------------
def test_custom_fwd_cast_inputs_keeps_float64_tensors_and_casts_float32_ones():
    seen = {}

    class Twice(tg.autograd.Function):
        @staticmethod
        @tg.amp.custom_fwd(device_type="cpu", cast_inputs=tg.float32)
        def forward(ctx, x, extra):
            seen["x"], seen["extra"] = x.dtype, [t.dtype for t in extra["ts"]]
            return x * 2

        @staticmethod
        @tg.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return g * 2, None

    x = tg.ones(3, dtype=tg.float64, requires_grad=True)
    extra = {"ts": [tg.ones(1, dtype=tg.float64), tg.ones(1, dtype=tg.float32)]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tg.autocast("cpu"):
            y = Twice.apply(x, extra)
    # torch leaves float64 tensors at full precision (only lower-precision floats are cast)
    assert seen == {"x": tg.float64, "extra": [tg.float64, tg.float32]}
    assert y.dtype == tg.float64
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 2.0))


def test_custom_fwd_cast_inputs_casts_float32_up_when_asked_for_float64():
    seen = []

    class Ident(tg.autograd.Function):
        @staticmethod
        @tg.amp.custom_fwd(device_type="cpu", cast_inputs=tg.float64)
        def forward(ctx, *xs):
            seen.extend(x.dtype for x in xs)
            return xs[0].clone()

        @staticmethod
        def backward(ctx, g):
            return g, None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tg.autocast("cpu"):
            Ident.apply(tg.ones(2, dtype=tg.float32), tg.ones(2, dtype=tg.int64))
    assert seen == [tg.float64, tg.int64]


# -- testing.assert_close: NumPy scalars are the Python numbers they hold --------------------------
def test_assert_close_compares_numpy_scalars_as_python_numbers():
    tg.testing.assert_close(np.float32(1.0), 1.0)          # both floats (torch: no dtype error)
    tg.testing.assert_close(np.float64(2.0), np.float32(2.0))
    tg.testing.assert_close(np.int32(3), 3)
    with pytest.raises(AssertionError, match=r"The \(d\)types do not match: <class 'int'> != "
                                             r"<class 'float'>"):
        tg.testing.assert_close(np.int64(1), 1.0)
    with pytest.raises(AssertionError, match="Scalars are not close"):
        tg.testing.assert_close(np.float32(1.0), 1.5)
