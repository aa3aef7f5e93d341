"""``torch.profiler``: ``profile`` / ``record_function`` / ``ProfilerActivity`` / ``schedule``.

tensorgan's ops are not instrumented, so a profile holds the ``record_function`` ranges the
program marks (CPU wall time, nested ranges included in their parents' totals) -- enough for
torch code that wraps its steps in ``record_function`` and prints
``prof.key_averages().table(...)``; ``export_chrome_trace`` writes them as a Chrome trace."""
from __future__ import annotations

import enum
import functools
import json
import os
import time
from typing import Any, Callable

from .errors import ConfigError

__all__ = ["ProfilerActivity", "ProfilerAction", "profile", "record_function", "schedule",
           "tensorboard_trace_handler"]

_active: list = []          # the profiles recording now


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0,
             skip_first: int = 0, skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """torch's step schedule: skip_first steps, then cycles of wait / warmup / active steps."""
    for name, v in (("wait", wait), ("warmup", warmup), ("active", active), ("repeat", repeat),
                    ("skip_first", skip_first)):
        if not isinstance(v, int) or v < 0:
            raise ConfigError(f"schedule: {name} must be a non-negative int, got {v!r}")
    if active < 1:
        raise ConfigError("schedule: active must be at least 1")
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if pos == cycle - 1 else ProfilerAction.RECORD

    return action


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[["profile"], None]:
    """An ``on_trace_ready`` that writes each finished profile as a Chrome trace in ``dir_name``."""
    def handler(prof: "profile") -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = f"{worker_name or os.getpid()}.{time.time_ns()}.pt.trace.json"
        prof.export_chrome_trace(os.path.join(dir_name, name))
    return handler


class FunctionEvent:
    def __init__(self, name: str, start: float, end: float) -> None:
        self.name, self.key = name, name
        self.time_range = (start, end)
        self.cpu_time_total = (end - start) * 1e6      # microseconds, as torch
        self.count = 1


class FunctionEventAvg:
    def __init__(self, key: str) -> None:
        self.key, self.count, self.cpu_time_total = key, 0, 0.0

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)


class EventList(list):
    """The recorded ranges; ``table()`` prints one row per name."""

    def table(self, sort_by: str | None = None, row_limit: int = 100, **_: Any) -> str:
        rows = list(self)
        key = sort_by.replace("self_", "") if sort_by else None
        if key and rows and hasattr(rows[0], key):
            rows.sort(key=lambda e: getattr(e, key), reverse=True)
        elif key and "cuda" in key or key and "device" in key:
            rows.sort(key=lambda e: e.cpu_time_total, reverse=True)
        rows = rows[:row_limit] if row_limit and row_limit > 0 else rows
        total = sum(e.cpu_time_total for e in self) or 1.0
        lines = [f"{'Name':<40s} {'CPU total %':>12s} {'CPU total':>12s} {'CPU time avg':>12s} "
                 f"{'# of Calls':>10s}"]
        lines.append("-" * len(lines[0]))
        for e in rows:
            avg = e.cpu_time_total / max(e.count, 1)
            lines.append(f"{e.key[:40]:<40s} {100 * e.cpu_time_total / total:>11.2f}% "
                         f"{_us(e.cpu_time_total):>12s} {_us(avg):>12s} {e.count:>10d}")
        lines.append("-" * len(lines[0]))
        lines.append(f"Self CPU time total: {_us(total)}")
        return "\n".join(lines)

    def key_averages(self) -> "EventList":
        groups: dict = {}
        for e in self:
            g = groups.setdefault(e.key, FunctionEventAvg(e.key))
            g.count += 1
            g.cpu_time_total += e.cpu_time_total
        return EventList(groups.values())


def _us(v: float) -> str:
    return f"{v / 1e3:.3f}ms" if v >= 1e3 else f"{v:.3f}us"


class profile:
    """Context manager recording the ``record_function`` ranges run inside it (CPU wall time);
    ``schedule`` / ``step()`` / ``on_trace_ready`` as torch's."""

    def __init__(self, *, activities: Any = None, schedule: Callable | None = None,
                 on_trace_ready: Callable | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False,
                 experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: Any = None) -> None:
        self.activities = set(activities or [ProfilerActivity.CPU])
        self.schedule, self.on_trace_ready = schedule, on_trace_ready
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.step_num = 0
        self._events: list = []
        self._finished: list = []
        self._recording = False

    def _action(self) -> ProfilerAction:
        return ProfilerAction.RECORD if self.schedule is None else self.schedule(self.step_num)

    def start(self) -> None:
        _active.append(self)
        self._recording = self._action() in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def stop(self) -> None:
        if self in _active:
            _active.remove(self)
        if self.schedule is None or self._events:
            self._finish()

    def _finish(self) -> None:
        self._finished = list(self._events)
        self._events = []
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self) -> None:
        """The end of a training step: moves along ``schedule``."""
        before = self._action()
        self.step_num += 1
        if before is ProfilerAction.RECORD_AND_SAVE:
            self._finish()
        self._recording = self._action() in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def __enter__(self) -> "profile":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _record(self, event: FunctionEvent) -> None:
        if self._recording:
            self._events.append(event)

    def events(self) -> EventList:
        return EventList(self._finished or self._events)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     **_: Any) -> EventList:
        return self.events().key_averages()

    def export_chrome_trace(self, path: str) -> None:
        trace = [{"name": e.name, "ph": "X", "ts": e.time_range[0] * 1e6,
                  "dur": e.cpu_time_total, "pid": os.getpid(), "tid": 0, "cat": "cpu_op"}
                 for e in self.events()]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)


class record_function:
    """Marks a named range for the active profiles (a context manager or a decorator)."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = str(name)
        self._start = 0.0

    def __enter__(self) -> "record_function":
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        end = time.perf_counter()
        for prof in list(_active):
            prof._record(FunctionEvent(self.name, self._start, end))

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapped
