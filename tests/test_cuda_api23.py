"""More of torch.cuda's calls (memory_stats / memory_summary, streams, the RNG state, arch
queries): without CUDA they answer as a CPU build of torch does (empty stats, [] / False, or a
DeviceError naming the call), under Numba's simulator they work, and on CUDA they drive CuPy --
checked against a stand-in CuPy that records what the glue asks of it."""
import os
import subprocess
import sys
import textwrap
import types

import pytest

import tensorgan.accelerator as accelerator
import tensorgan.cuda as tcuda
from tensorgan.errors import ConfigError, DeviceError


@pytest.fixture
def no_cuda(monkeypatch):
    status = lambda: (False, "no GPU in this test")     # noqa: E731
    monkeypatch.setattr(accelerator, "cuda_status", status)
    monkeypatch.setattr(tcuda, "cuda_status", status)


def test_without_cuda_stats_are_empty_and_queries_answer_as_a_cpu_build(no_cuda):
    assert dict(tcuda.memory_stats()) == {}
    assert "no CUDA memory in use" in tcuda.memory_summary() and "no GPU in this test" in tcuda.memory_summary()
    assert tcuda.is_bf16_supported() is False and tcuda.get_arch_list() == []
    assert tcuda.memory_cached() == tcuda.max_memory_cached() == 0
    with tcuda.stream(None):        # torch's CPU build accepts the None stream too
        pass
    assert tcuda.seed() is None and tcuda.seed_all() is None


@pytest.mark.parametrize("name, call", [
    ("Stream", lambda: tcuda.Stream()),
    ("current_stream", lambda: tcuda.current_stream()),
    ("default_stream", lambda: tcuda.default_stream()),
    ("get_rng_state", lambda: tcuda.get_rng_state()),
    ("set_rng_state", lambda: tcuda.set_rng_state({})),
    ("initial_seed", lambda: tcuda.initial_seed()),
    ("ipc_collect", lambda: tcuda.ipc_collect()),
    ("set_per_process_memory_fraction", lambda: tcuda.set_per_process_memory_fraction(0.5)),
])
def test_without_cuda_stream_and_rng_calls_raise_naming_the_call(no_cuda, name, call):
    with pytest.raises(DeviceError, match=rf"tg\.cuda\.{name}: .*no GPU in this test"):
        call()


def test_under_the_simulator_streams_and_rng_state_work():
    code = textwrap.dedent("""
        import tensorgan as tg
        c = tg.cuda
        s = c.Stream()
        with c.stream(s):
            y = tg.ones(3) * 2
        s.synchronize()
        assert s.query() and c.current_stream() == c.current_stream() == c.default_stream()
        s.wait_stream(c.current_stream())
        ev = s.record_event()
        assert ev.query()
        tg.manual_seed(3)
        state = c.get_rng_state()
        a = tg.randn(4)
        c.set_rng_state(state)
        b = tg.randn(4)
        assert (a == b).all(), (a, b)
        c.set_rng_state_all(c.get_rng_state_all())
        assert c.initial_seed() == 3 and c.get_arch_list() == []
        assert dict(c.memory_stats()) == {}
        print("ok")
    """)
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


class _FakePool:
    def __init__(self):
        self.limits = []

    def used_bytes(self):
        return 1024

    def total_bytes(self):
        return 4096

    def set_limit(self, size=None, fraction=None):
        self.limits.append(fraction)


class _FakeStream:
    entered = []

    def __init__(self, non_blocking=False, ptr=1):
        self.ptr, self.done, self.synced, self.waited = ptr, True, 0, []

    def synchronize(self):
        self.synced += 1

    def wait_event(self, event):
        self.waited.append(event)

    def __enter__(self):
        _FakeStream.entered.append(self)
        return self

    def __exit__(self, *exc):
        _FakeStream.entered.pop()


class _FakeEvent:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.streams = []

    def record(self, stream=None):
        self.streams.append(stream)


@pytest.fixture
def fake_cupy(monkeypatch):
    pool = _FakePool()
    null = _FakeStream(ptr=0)
    current = [null]
    cuda_ns = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceProperties=lambda i: {
            "name": b"NVIDIA H100", "totalGlobalMem": 85 << 30, "major": 9, "minor": 0,
            "multiProcessorCount": 132}),
        Stream=_FakeStream, Event=_FakeEvent,
        get_current_stream=lambda: _FakeStream.entered[-1] if _FakeStream.entered else current[0])
    cuda_ns.Stream.null = null
    fake = types.SimpleNamespace(get_default_memory_pool=lambda: pool, cuda=cuda_ns)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    status = lambda: (True, "stand-in CuPy")     # noqa: E731
    for module in (accelerator, tcuda):
        monkeypatch.setattr(module, "cuda_status", status)
        monkeypatch.setattr(module, "simulator_enabled", lambda: False)
    yield pool, null
    del _FakeStream.null


def test_on_cuda_stats_read_the_pool_and_streams_are_cupys(fake_cupy):
    pool, null = fake_cupy
    stats = tcuda.memory_stats()
    assert stats["allocated_bytes.all.current"] == 1024 and stats["reserved_bytes.all.current"] == 4096
    assert stats["allocated_bytes.all.peak"] >= 1024 and stats["reserved_bytes.all.peak"] >= 4096
    summary = tcuda.memory_summary()
    assert "1,024" in summary and "4,096" in summary
    tcuda.set_per_process_memory_fraction(0.25)
    assert pool.limits == [0.25]
    with pytest.raises(ConfigError, match="fraction must be a number in"):
        tcuda.set_per_process_memory_fraction(1.5)
    assert tcuda.get_arch_list() == ["sm_90"]
    assert tcuda.default_stream()._stream is null and tcuda.current_stream() == tcuda.default_stream()
    s = tcuda.Stream()
    with tcuda.stream(s):       # the kernels' launcher reads CuPy's current stream
        assert tcuda.current_stream() == s and sys.modules["cupy"].cuda.get_current_stream() is s._stream
    assert tcuda.current_stream() == tcuda.default_stream()
    other = tcuda.Stream()
    s.wait_stream(other)
    assert len(s._stream.waited) == 1 and s._stream.waited[0].streams == [other._stream]
    s.synchronize()
    assert s._stream.synced == 1 and s.query()
