"""tg.cuda's torch.cuda calls (synchronize, empty_cache, memory counters, device queries, Event):
without CUDA they behave as a CPU build of torch's (0 / no-op / DeviceError naming the call), under
Numba's simulator they work on the simulated device, and on CUDA they read CuPy -- checked here
against a stand-in CuPy that records what the glue asks of it."""
import os
import subprocess
import sys
import textwrap
import types

import pytest

import tensorgan as tg
import tensorgan.accelerator as accelerator
import tensorgan.cuda as tcuda
from tensorgan.errors import DeviceError


@pytest.fixture
def no_cuda(monkeypatch):
    status = lambda: (False, "no GPU in this test")     # noqa: E731
    monkeypatch.setattr(accelerator, "cuda_status", status)
    monkeypatch.setattr(tcuda, "cuda_status", status)


def test_without_cuda_counters_are_zero_and_cache_calls_do_nothing(no_cuda):
    assert tcuda.memory_allocated() == tcuda.max_memory_allocated() == 0
    assert tcuda.memory_reserved() == tcuda.max_memory_reserved() == 0
    assert tcuda.empty_cache() is None and tcuda.reset_peak_memory_stats() is None
    assert tcuda.is_initialized() is False and tcuda.is_available() is False


@pytest.mark.parametrize("name, call", [
    ("synchronize", lambda: tcuda.synchronize()),
    ("current_device", lambda: tcuda.current_device()),
    ("get_device_name", lambda: tcuda.get_device_name(0)),
    ("get_device_properties", lambda: tcuda.get_device_properties(0)),
    ("get_device_capability", lambda: tcuda.get_device_capability()),
    ("mem_get_info", lambda: tcuda.mem_get_info()),
    ("set_device", lambda: tcuda.set_device(0)),
    ("init", lambda: tcuda.init()),
    ("Event", lambda: tcuda.Event(enable_timing=True)),
])
def test_without_cuda_device_calls_raise_naming_the_call(no_cuda, name, call):
    with pytest.raises(DeviceError, match=rf"tg\.cuda\.{name}: .*no GPU in this test"):
        call()


def test_under_the_simulator_events_time_and_queries_answer():
    code = textwrap.dedent("""
        import time
        import tensorgan as tg
        from tensorgan.errors import DeviceError
        c = tg.cuda
        start, end = c.Event(enable_timing=True), c.Event(enable_timing=True)
        start.record(); time.sleep(0.02); end.record(); end.synchronize()
        ms = start.elapsed_time(end)
        assert 15.0 <= ms < 2000.0, ms
        assert end.query()
        assert c.current_device() == 0 and c.is_initialized()
        assert c.get_device_name() == "Numba CUDA simulator"
        c.synchronize(); c.synchronize(0); c.set_device("cuda:0")
        with c.device(0):
            pass
        for bad in (lambda: c.set_device(1), lambda: c.synchronize(2)):
            try:
                bad()
            except DeviceError as exc:
                assert "out of range" in str(exc), exc
            else:
                raise AssertionError("device 1 accepted")
        untimed = c.Event()
        untimed.record()
        try:
            untimed.elapsed_time(end)
        except DeviceError as exc:
            assert "enable_timing" in str(exc)
        else:
            raise AssertionError("elapsed_time without timing accepted")
        print("ok")
    """)
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


class _FakePool:
    def __init__(self):
        self.freed = 0

    def used_bytes(self):
        return 1024

    def total_bytes(self):
        return 4096

    def free_all_blocks(self):
        self.freed += 1


class _FakeEvent:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.kwargs = dict(block=block, disable_timing=disable_timing, interprocess=interprocess)
        self.recorded, self.synced, self.done = 0, 0, True

    def record(self, stream=None):
        self.recorded += 1

    def synchronize(self):
        self.synced += 1


@pytest.fixture
def fake_cupy(monkeypatch):
    calls = []
    pool = _FakePool()
    runtime = types.SimpleNamespace(
        deviceSynchronize=lambda: calls.append("deviceSynchronize"),
        getDeviceProperties=lambda i: {"name": b"NVIDIA H100 80GB HBM3", "totalGlobalMem": 85 << 30,
                                       "major": 9, "minor": 0, "multiProcessorCount": 132},
        memGetInfo=lambda: (80 << 30, 85 << 30))
    cuda = types.SimpleNamespace(runtime=runtime, Event=_FakeEvent,
                                 get_elapsed_time=lambda a, b: 1.25)
    fake = types.SimpleNamespace(get_default_memory_pool=lambda: pool, cuda=cuda)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    status = lambda: (True, "stand-in CuPy")     # noqa: E731
    for module in (accelerator, tcuda):
        monkeypatch.setattr(module, "cuda_status", status)
        monkeypatch.setattr(module, "simulator_enabled", lambda: False)
    return calls, pool


def test_on_cuda_the_calls_read_cupys_pool_runtime_and_events(fake_cupy):
    calls, pool = fake_cupy
    assert tcuda.memory_allocated() == 1024 and tcuda.memory_reserved() == 4096
    assert tcuda.max_memory_allocated() == 4096      # the pool's size bounds the peak
    tcuda.empty_cache()
    assert pool.freed == 1
    tcuda.synchronize()
    assert calls == ["deviceSynchronize"]
    assert tcuda.get_device_name(0) == "NVIDIA H100 80GB HBM3"
    assert tcuda.get_device_capability() == (9, 0)
    props = tcuda.get_device_properties("cuda:0")
    assert (props.total_memory, props.multi_processor_count) == (85 << 30, 132)
    assert tcuda.mem_get_info() == (80 << 30, 85 << 30)
    start, end = tcuda.Event(enable_timing=True), tcuda.Event(enable_timing=True)
    assert start._event.kwargs["disable_timing"] is False
    assert tcuda.Event()._event.kwargs["disable_timing"] is True
    start.record(); end.record(); end.synchronize()
    assert start.elapsed_time(end) == 1.25 and end._event.synced == 1 and end.query()


def test_torch_style_timing_loop_runs_on_the_cpu():
    # the guard torch scripts use: time with events only where CUDA is there
    x = tg.randn(8, 8)
    if tg.cuda.is_available():
        tg.cuda.synchronize()
    y = x @ x
    tg.cuda.empty_cache()
    assert y.shape == (8, 8)
