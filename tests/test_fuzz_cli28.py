"""The command line fuzzed as a hostile-but-honest user would (session 28): options before the
command, SIGTERM mid-run, an --out holding another run's logs or someone else's files, Ctrl-C
while the package is still importing. Each failure is one line naming what was wrong."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tensorgan.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("blobs28")
    rng = np.random.default_rng(28)
    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(root / f"{i}.png")
    return root


def train_args(folder, out, steps=2, *extra):
    return ["train", "--dataset", f"folder:{folder}", "--image-size", "8", "--channels", "1",
            "--base-channels", "4", "--latent-dim", "8", "--batch-size", "4", "--steps", str(steps),
            "--checkpoint-every", "100", "--out", str(out), "--no-progress", *extra]


def one_error_line(capsys, *needles):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tensorgan: error: "), err
    assert all(n in err[0] for n in needles), err
    return err[0]


# ---------------------------------------------------------------------------------------------
# options before the command
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, device, debug", [
    (["--device", "cpu", "train"], "cpu", False),
    (["train", "--device", "cpu"], "cpu", False),
    (["--device", "cuda", "train", "--device", "cpu"], "cpu", False),   # the later one wins
    (["--debug", "sample", "--checkpoint", "c", "-o", "o.png"], None, True),
    (["eval", "--debug"], None, True),
    (["train"], None, False),
])
def test_device_and_debug_go_before_or_after_the_command(argv, device, debug):
    args = build_parser().parse_args(argv)
    assert (args.device, args.debug) == (device, debug)


def test_a_bad_device_before_the_command_is_refused_before_any_file(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--device=tpu", "train", "--out", str(out)]) == 1
    one_error_line(capsys, "unknown device 'tpu'")
    assert not out.exists()


@pytest.mark.parametrize("argv, named", [
    (["--frobnicate"], "--frobnicate"),                       # was: "required: COMMAND"
    (["--frobnicate=1", "train"], "--frobnicate=1"),
    (["--steps", "3", "train"], "--steps"),                   # a train option before train
])
def test_an_unknown_option_before_the_command_is_named(argv, named, capsys):
    assert main(argv) == 2
    line = one_error_line(capsys, "unrecognized arguments:", named, "tensorgan COMMAND [options]")
    assert "required" not in line


# ---------------------------------------------------------------------------------------------
# SIGTERM mid-run
# ---------------------------------------------------------------------------------------------
def test_sigterm_mid_run_writes_a_checkpoint_says_so_and_exits_143(folder, tmp_path, capsys, monkeypatch):
    import tensorgan.train as train_module
    from tensorgan.checkpoint import load_checkpoint
    step = train_module.Trainer.train_step

    def step_then_sigterm(self, *args):
        record = step(self, *args)
        if self.step == 2:
            os.kill(os.getpid(), signal.SIGTERM)      # as `kill PID` / `timeout` / docker stop
        return record

    monkeypatch.setattr(train_module.Trainer, "train_step", step_then_sigterm)
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "run"
    assert main(train_args(folder, out, 50)) == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tensorgan: terminated at step 2; checkpoint written to {out / 'checkpoint.npz'} "
                   f"(continue with --resume)"]
    assert signal.getsignal(signal.SIGTERM) is before           # the handler is undone
    assert int(load_checkpoint(out / "checkpoint.npz")["step"]) == 2
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2]
    monkeypatch.setattr(train_module.Trainer, "train_step", step)
    assert main(train_args(folder, out, 3, "--resume")) == 0       # and it resumes
    assert "trained to step 3" in capsys.readouterr().out
