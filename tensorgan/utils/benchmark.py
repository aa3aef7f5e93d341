"""``torch.utils.benchmark``: :class:`Timer` (``timeit`` / ``blocked_autorange`` /
``adaptive_autorange``) and its :class:`Measurement` (mean, median, IQR, times), for torch
code that times its ops; ``Compare`` prints a table of measurements."""
from __future__ import annotations

import statistics
import timeit as _timeit
from typing import Any, Callable

from ..errors import ConfigError

__all__ = ["Timer", "Measurement", "Compare"]


class Measurement:
    """Seconds per run of a statement: ``times`` (one per block), ``mean``, ``median``, ``iqr``."""

    def __init__(self, number_per_run: int, raw_times: list, task_spec: "Timer") -> None:
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.times = [t / number_per_run for t in raw_times]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def iqr(self) -> float:
        if len(self.times) < 2:
            return 0.0
        q = statistics.quantiles(self.times, n=4)
        return q[2] - q[0]

    @property
    def title(self) -> str:
        return self.task_spec.label or self.task_spec.stmt

    def __repr__(self) -> str:
        return (f"<tensorgan.utils.benchmark.Measurement object>\n{self.title}\n"
                f"  Median: {self.median * 1e6:.2f} us\n  {len(self.times)} measurements, "
                f"{self.number_per_run} runs per measurement")


class Timer:
    """``Timer(stmt, setup="pass", globals=None, label=None, sub_label=None, description=None,
    num_threads=1)``: times ``stmt`` (code run with ``globals``)."""

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = _timeit.default_timer, globals: dict | None = None,
                 label: str | None = None, sub_label: str | None = None,
                 description: str | None = None, env: str | None = None,
                 num_threads: int = 1, language: Any = "python") -> None:
        if language not in ("python", "py"):
            raise ConfigError(f"Timer: only Python statements can be timed here, got "
                              f"language={language!r}")
        self.stmt, self.setup = stmt, setup
        self.label, self.sub_label, self.description = label, sub_label, description
        self.env, self.num_threads = env, num_threads
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer,
                                    globals=dict(globals or {}))

    def timeit(self, number: int = 1000000) -> Measurement:
        self._timer.timeit(number=max(int(number // 100), 2))       # warm up
        return Measurement(number, [self._timer.timeit(number=number)], self)

    def repeat(self, repeat: int = -1, number: int = -1) -> Any:
        raise NotImplementedError("Timer.repeat: use timeit or blocked_autorange (as torch)")

    def _block_size(self, min_block: float) -> int:
        number = 1
        while True:
            if self._timer.timeit(number=number) >= min_block:
                return number
            number *= 10

    def blocked_autorange(self, callback: Callable | None = None,
                          min_run_time: float = 0.2) -> Measurement:
        """Blocks of runs (each >= 0.025 s, as torch) until ``min_run_time`` seconds."""
        number = self._block_size(0.025)
        times, total = [], 0.0
        while total < min_run_time or not times:
            t = self._timer.timeit(number=number)
            if callback is not None:
                callback(number, t)
            times.append(t)
            total += t
        return Measurement(number, times, self)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0, callback: Callable | None = None) -> Measurement:
        """Blocks until the IQR / median falls under ``threshold`` (or ``max_run_time``)."""
        number = self._block_size(0.01)
        times, total = [], 0.0
        while True:
            t = self._timer.timeit(number=number)
            if callback is not None:
                callback(number, t)
            times.append(t)
            total += t
            m = Measurement(number, times, self)
            if total >= min_run_time and len(times) >= 3 and m.iqr / m.median < threshold:
                return m
            if total >= max_run_time:
                return m


class Compare:
    """A table of measurements (``Compare([m1, m2]).print()``)."""

    def __init__(self, results: list) -> None:
        self._results = list(results)

    def __str__(self) -> str:
        lines = [f"{'':40s} median (us)"]
        for m in self._results:
            name = " ".join(x for x in (m.task_spec.label, m.task_spec.sub_label,
                                        m.task_spec.description) if x) or m.task_spec.stmt
            lines.append(f"{name[:40]:40s} {m.median * 1e6:10.2f}")
        return "\n".join(lines)

    def print(self) -> None:
        print(str(self))
