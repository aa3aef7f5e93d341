"""Ctrl-C or SIGTERM while ``python -m tensorgan`` / the ``tensorgan`` script is still importing
the package (seconds on a busy machine) ends with the CLI's one line, not a traceback or a silent
death: ``cli.main`` catches KeyboardInterrupt and SIGTERM only once it runs. Imported first by ``tensorgan/__init__``; a program that
imports tensorgan as a library is left alone."""
from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _run_as_command() -> bool:
    argv = list(getattr(sys, "orig_argv", ()))
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1] == "tensorgan":
        return True
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return script in ("tensorgan", "tensorgan.exe")


def terminated_while_starting(signum: int, frame: Any) -> None:
    """SIGTERM before ``cli.main`` runs: nothing is written yet, so say so and exit 143 at once
    (``cli.main`` replaces this handler with its own)."""
    began = "training began" if "train" in sys.argv[1:] else "the command began"
    sys.stderr.write(f"tensorgan: terminated before {began}; nothing was written\n")
    sys.stderr.flush()
    os._exit(128 + signal.SIGTERM)      # (mid-import: no cleanup to run, no exception to unwind)


def quiet_interrupts_when_run_as_command() -> None:
    """An uncaught KeyboardInterrupt prints ``tensorgan: interrupted`` (``--debug``: the
    traceback); Python still ends the process by SIGINT, which the shell reports as 130.
    SIGTERM prints one line too and exits 143."""
    if not _run_as_command():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:    # (not one the caller set)
        try:
            signal.signal(signal.SIGTERM, terminated_while_starting)
        except ValueError:      # imported first in another thread: signals are the main thread's
            pass
    if "--debug" in sys.argv:
        return
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            print("tensorgan: interrupted", file=sys.stderr)
        else:
            previous(kind, value, tb)

    sys.excepthook = hook
