"""Ctrl-C while ``python -m tensorgan`` / the ``tensorgan`` script is still importing the package
(seconds on a busy machine) ends with the CLI's one line, not a traceback: ``cli.main`` catches
KeyboardInterrupt only once it runs. Imported first by ``tensorgan/__init__``; a program that
imports tensorgan as a library is left alone."""
from __future__ import annotations

import os
import sys
from typing import Any


def _run_as_command() -> bool:
    argv = list(getattr(sys, "orig_argv", ()))
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1] == "tensorgan":
        return True
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return script in ("tensorgan", "tensorgan.exe")


def quiet_interrupts_when_run_as_command() -> None:
    """An uncaught KeyboardInterrupt prints ``tensorgan: interrupted`` (``--debug``: the
    traceback); Python still ends the process by SIGINT, which the shell reports as 130."""
    if not _run_as_command() or "--debug" in sys.argv:
        return
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            print("tensorgan: interrupted", file=sys.stderr)
        else:
            previous(kind, value, tb)

    sys.excepthook = hook
