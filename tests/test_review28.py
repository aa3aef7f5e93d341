"""Session 28's review: fixes to the session's own changes (the run-directory lock on file systems
without directory locks, ...), each pinned here."""
import errno
import os

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import cli
from tensorgan.errors import ConfigError


# ---------------------------------------------------------------------------------------------
# train's run-directory lock
# ---------------------------------------------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="no flock on Windows")
@pytest.mark.parametrize("code", [errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP])
def test_run_dir_lock_trains_unlocked_where_the_file_system_cannot_lock_a_directory(tmp_path, monkeypatch, code):
    import fcntl

    def refuse(fd, operation):     # NFS's flock emulation on a read-only fd: EBADF
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fcntl, "flock", refuse)
    entered = []
    with cli._run_dir_lock(tmp_path):     # was: the OSError ended every train on such a mount
        entered.append(True)
    assert entered


@pytest.mark.skipif(os.name == "nt", reason="no flock on Windows")
def test_run_dir_lock_still_refuses_a_directory_in_use(tmp_path):
    import fcntl
    busy = os.open(tmp_path, os.O_RDONLY)
    try:
        fcntl.flock(busy, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ConfigError, match="is in use"):
            with cli._run_dir_lock(tmp_path):
                pass
    finally:
        os.close(busy)


# ---------------------------------------------------------------------------------------------
# integer tensor / NumPy integer: true division in float, as a Python int divisor is (451c88d)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("divisor", [-3, np.int64(-3), np.int32(-3), np.int8(-3), np.uint16(3)])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64"])
def test_integer_tensor_over_a_numpy_integer_does_not_wrap_the_divisor(divisor, dtype):
    values = np.array([5, 100], dtype=dtype)
    got = (tg.tensor(values) / divisor).numpy()
    # was: uint8 / np.int64(-3) divided by 253 (the divisor wrapped into the tensor's dtype)
    np.testing.assert_allclose(got, values.astype(np.float64) / int(divisor), rtol=1e-6)
    assert got.dtype == np.float32
    np.testing.assert_allclose(tg.tensor(values).div(divisor).numpy(), got)


@pytest.mark.parametrize("op", ["__and__", "__or__", "__xor__"])
@pytest.mark.parametrize("other", [-3, np.int64(-3), np.int64(300), np.int16(-1)])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
def test_bitwise_with_a_numpy_integer_wraps_it_into_the_tensors_dtype(op, other, dtype):
    values = np.array([5, 100], dtype=dtype)
    got = getattr(tg.tensor(values), op)(other).numpy()
    wrapped = np.array(int(other)).astype(np.int64).astype(dtype)    # C's cast: modulo 2**bits
    assert got.dtype == np.dtype(dtype)        # was: np.int64(-3) gave an int64 tensor of -3 | x
    np.testing.assert_array_equal(got, getattr(values, op)(wrapped))
