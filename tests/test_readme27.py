"""Checks from session 27's README walk-through (helper h27f).

Every command line the README shows -- in its ```bash blocks and inline in its prose -- that runs
`tensorgan train|sample|eval` or `python -m benchmarks.X` is parsed here by that program's own
argument parser (nothing is run), and every flag a block's comment lists is one of the program's
options: a renamed or removed flag fails this file instead of a reader's first try.
"""
from __future__ import annotations

import argparse
import importlib
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.functional as F

README = Path(__file__).resolve().parents[1] / "README.md"
_ENV = r"(?:[A-Z_]+=\S+ )*"
_TENSORGAN = re.compile(rf"^{_ENV}(?:python -m )?tensorgan ((?:train|sample|eval) .*)$")
_BENCHMARK = re.compile(rf"^{_ENV}(?:python -m )?benchmarks\.([a-z]\w*)((?: .*)?)$")


def _commands() -> list[tuple[str, str]]:
    """(command, the flags its block comment lists) for each command line of the README."""
    text = README.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.splitlines():
            command, _, comment = line.partition("#")
            found.append((" ".join(command.split()), comment))
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    for span in re.findall(r"`([^`]+)`", prose):
        found.append((" ".join(span.split()), ""))
    wanted = [(c, comment) for c, comment in found if _TENSORGAN.match(c) or _BENCHMARK.match(c)]
    return list(dict.fromkeys(wanted))            # a command the README repeats is parsed once


def _listed_flags(comment: str) -> list[str]:
    """The flags a comment names before its first ';' (after it: prose, e.g. `ptxas -v`)."""
    return re.findall(r"(?<![\w-])--?[a-z][\w-]*", comment.partition(";")[0])


class _Parsed(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def _benchmark_parser(module: str, argv: list[str], monkeypatch) -> argparse.ArgumentParser:
    """The benchmark's parser after it parsed ``argv`` (its main() stops right there)."""
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        original(self, args, namespace)
        raise _Parsed(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    with pytest.raises(_Parsed) as parsed:
        importlib.import_module(f"benchmarks.{module}").main(argv)
    return parsed.value.parser


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def test_the_readme_shows_the_commands_this_file_parses():
    commands = [c for c, _ in _commands()]
    assert sum(bool(_TENSORGAN.match(c)) for c in commands) >= 10
    assert {_BENCHMARK.match(c).group(1) for c in commands if _BENCHMARK.match(c)} >= {
        "train_step", "malloc", "kernels", "microkernel", "ptx_report", "penalties", "layers_1d",
        "layers_3d", "cuda_variants"}


@pytest.mark.parametrize("command, comment", [c for c in _commands() if _TENSORGAN.match(c[0])])
def test_readme_tensorgan_command_parses(command, comment):
    from tensorgan.cli import build_parser
    argv = shlex.split(_TENSORGAN.match(command).group(1))
    parser = build_parser()
    if "--help" in argv:
        with pytest.raises(SystemExit) as done:
            parser.parse_args(argv)
        assert done.value.code == 0
        return
    parser.parse_args(argv)                           # a bad flag raises the CLI's usage error
    options = _subparser(parser, argv[0])._option_string_actions
    assert [f for f in _listed_flags(comment) if f not in options] == []


@pytest.mark.parametrize("command, comment", [c for c in _commands() if _BENCHMARK.match(c[0])])
def test_readme_benchmark_command_parses(command, comment, monkeypatch, capsys):
    module, rest = _BENCHMARK.match(command).groups()
    parser = _benchmark_parser(module, shlex.split(rest), monkeypatch)
    options = parser._option_string_actions
    assert [f for f in _listed_flags(comment) if f not in options] == []


# ---- F.interpolate(mode="area") to a size with a 0: empty, as torch (it was refused) -------------

@pytest.mark.parametrize("shape, size, out", [((2, 2, 3, 4), (2, 0), (2, 2, 2, 0)),
                                              ((2, 2, 4), 0, (2, 2, 0)),
                                              ((1, 1, 2, 3, 4), (0, 1, 1), (1, 1, 0, 1, 1))])
def test_area_interpolation_to_a_zero_size_is_empty(shape, size, out):
    x = tg.randn(*shape, dtype="float64", requires_grad=True)
    y = F.interpolate(x, size=size, mode="area")
    assert y.shape == out and y.dtype == x.dtype
    y.sum().backward()                   # nothing flows back (torch's backward refuses instead)
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(shape))


def test_zero_size_still_refused_outside_area_mode_and_negative_sizes_everywhere():
    x = tg.randn(2, 2, 3, 4)
    with pytest.raises(tg.ShapeError, match="size must be >= 1"):
        F.interpolate(x, size=(2, 0), mode="bilinear")
    with pytest.raises(tg.ShapeError, match="size must be >= 1"):
        F.interpolate(x, size=(2, -1), mode="area")
