"""Shared pytest configuration.

--- CUDA simulator switch: keep this block FIRST in the file --------------------------------------
Numba reads NUMBA_ENABLE_CUDASIM once, when numba is first imported, so it must be decided here,
before any test module imports numba.  With a usable GPU (CuPy imports and sees a device) it stays
unset and the CUDA kernel tests run on the device; otherwise the kernels run in Numba's CUDA
simulator (one Python thread per CUDA thread, NumPy arrays).  An explicit setting in the
environment always wins.
"""
import os


def _real_gpu_usable() -> bool:
    try:
        import cupy
        return bool(cupy.is_available())
    except Exception:  # not installed, no driver, no device, ...
        return False


if "NUMBA_ENABLE_CUDASIM" not in os.environ and not _real_gpu_usable():
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" and not os.environ.get("TENSORGAN_STOCK_CUDASIM"):
    # The simulator's barrier polls every thread of a block; a blocking one (same semantics) makes
    # the simulated kernels several times faster.  See tests/cudasim_barrier.py; it patches
    # numba-cuda internals, so it installs only on the version it was written against (else the
    # stock simulator runs, slower), and TENSORGAN_STOCK_CUDASIM=1 runs the stock one anyway.
    import cudasim_barrier
    cudasim_barrier.install()
# --- end of the CUDA simulator switch ---------------------------------------------------------------

# The suite's default device is the CPU on every machine, so that a test written against NumPy
# arrays means the same with a GPU present; the CUDA tests name device="cuda" (tests/test_engine.py's
# DEVICES, tests/kernels/test_cuda.py).  An explicit TENSORGAN_DEVICE wins.
os.environ.setdefault("TENSORGAN_DEVICE", "cpu")


import pytest  # noqa: E402  (after the simulator switch above, which must come first)


@pytest.fixture
def usage_error(capsys):
    """``usage_error(main, argv)``: run a command's ``main`` expecting argparse's usage exit (2);
    returns what it printed on stderr."""
    def run(main, argv):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        return capsys.readouterr().err
    return run


@pytest.fixture
def float64_default():
    """float64 as tensorgan's default dtype for one test, restored after it (the ports compare
    with torch in float64); a module takes it with ``pytestmark = pytest.mark.usefixtures(...)``."""
    import tensorgan as tg
    before = tg.get_default_dtype()
    tg.set_default_dtype(tg.float64)
    yield
    tg.set_default_dtype(before)


@pytest.fixture
def launched(monkeypatch):
    """The CUDA kernels the glue launches (by name, in order) while the test runs."""
    from tensorgan.kernels import cuda as kc
    names = []
    real = kc._run

    def spy(kernel, *args):
        names.append(kernel.py_func.__name__)
        real(kernel, *args)
    monkeypatch.setattr(kc, "_run", spy)
    return names
