"""Python-level calls each everyday op makes (``sys.setprofile``): a deterministic measure of the
engine's per-op overhead that a busy VM cannot blur, unlike a timer.

    python scripts/python_calls.py                    # this checkout
    cd <worktree of an older commit> && PYTHONPATH=$PWD python /path/to/scripts/python_calls.py

Session 29 (2026-12-07) ran it at its start (b52efc7, in a worktree) and its end (292a215):
``a + b`` 28 / 28, ``a * b`` 24 / 24, ``a[0]`` 30 / 30, ``a[i]`` 26 / 26, ``a.sum()`` 28 / 28,
``a[i] = b[i]`` 70 / 69, ``w.abs().sum().backward()`` 174 / 177 (the walk's ``_Walk`` steps), the
20-step chain with its backward 2870 / 2832.  Session 30 (2026-12-08), ba935f8 / its end: the
per-op counts unchanged; ``w.abs().sum().backward()`` 177 / 181 and the chain 2832 / 2875 -- one
call a node that has inputs (``_push_inputs``, the walk's named step) and one a backward (the
no_grad-view check); the DCGAN's walk measured no slower (h30k: 23.5 vs 22.8 us, min of 1000).
"""
from __future__ import annotations

import sys
from typing import Callable

import tensorgan as tg


def python_calls(fn: Callable[[], object]) -> int:
    """Calls (Python and C functions) one run of ``fn`` makes, after a warm-up run."""
    fn()
    count = 0

    def profile(frame, event, arg):  # noqa: ANN001 - sys.setprofile's signature
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def cases() -> dict[str, Callable[[], object]]:
    """The ops measured: small tensors, so the engine's Python is all there is to see."""
    a, b = tg.randn(8, 8), tg.randn(8, 8)
    i, m = tg.tensor([0, 2]), a > 0
    w = tg.tensor([1., -2.], requires_grad=True)
    x = tg.randn(4, 4, requires_grad=True)

    def setitem(key, value):
        a[key] = value

    def chain():
        y = x
        for _ in range(20):
            y = y * 1.0001 + 0.1
        y.sum().backward()

    return {"a + b": lambda: a + b, "a * b": lambda: a * b, "a[0]": lambda: a[0],
            "a[:, 1:3]": lambda: a[:, 1:3], "a[i]": lambda: a[i], "a[m]": lambda: a[m],
            "a[0] = 1.": lambda: setitem(0, 1.0), "a[i] = b[i]": lambda: setitem(i, b[i]),
            "a.sum()": a.sum, "a.view(64)": lambda: a.view(64),
            "w.abs().sum().backward()": lambda: w.abs().sum().backward(),
            "20-step chain + backward": chain}


def main() -> None:
    for name, fn in cases().items():
        print(f"{name:26s} {python_calls(fn):5d}")


if __name__ == "__main__":
    main()
