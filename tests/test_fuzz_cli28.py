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

from cli_runs import random_image_folder, tiny_train_args
from tensorgan.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return random_image_folder(tmp_path_factory.mktemp("blobs28"), 8, seed=28)


train_args = tiny_train_args


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


# ---------------------------------------------------------------------------------------------
# an --out holding another run's files (no checkpoint), or files that are not a run's
# ---------------------------------------------------------------------------------------------
def test_a_fork_into_an_out_holding_another_runs_log_is_refused_and_the_log_kept(folder, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(train_args(folder, a, 3)) == 0
    assert main(train_args(folder, b, 4, "--lr", "0.001")) == 0
    (b / "checkpoint.npz").rename(tmp_path / "moved.npz")         # b's checkpoint moved away
    before = {p.name: p.read_bytes() for p in b.iterdir() if p.is_file()}
    capsys.readouterr()
    # was: a's steps 4-5 appended to b's steps 1-3, under a config.json that says a's settings
    assert main(train_args(folder, b, 5, "--resume", str(a / "checkpoint.npz"))) == 1
    one_error_line(capsys, f"--out {b} holds the metrics.jsonl of another run", "other settings")
    # and a new run there would have emptied b's log (was: silently)
    assert main(train_args(folder, b, 2)) == 1
    one_error_line(capsys, "metrics.jsonl of another run")
    assert {p.name: p.read_bytes() for p in b.iterdir() if p.is_file()} == before


def test_a_run_killed_before_its_first_checkpoint_starts_again_in_its_folder(folder, tmp_path, capsys):
    out, fork, a = tmp_path / "run", tmp_path / "fork", tmp_path / "a"
    assert main(train_args(folder, out, 2)) == 0
    (out / "checkpoint.npz").unlink()                # as a kill before the first checkpoint leaves it
    assert main(train_args(folder, out, 3)) == 0      # the same settings (a longer run: fine)
    assert [json.loads(r)["step"] for r in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
    assert main(train_args(folder, a, 2)) == 0        # a fork killed before its first checkpoint
    assert main(train_args(folder, fork, 3, "--resume", str(a / "checkpoint.npz"))) == 0
    (fork / "checkpoint.npz").unlink()
    assert main(train_args(folder, fork, 4, "--resume", str(a / "checkpoint.npz"))) == 0
    assert [json.loads(r)["step"] for r in (fork / "metrics.jsonl").read_text().splitlines()] == [3, 4]


@pytest.mark.parametrize("text", ['{"my": "settings"}', "not json", "[1, 2]"])
def test_an_out_holding_someone_elses_config_json_is_refused_and_left_alone(folder, tmp_path, capsys, text):
    out = tmp_path / "project"                       # e.g. --out . in a project folder
    out.mkdir()
    (out / "config.json").write_text(text)
    assert main(train_args(folder, out, 2)) == 1
    one_error_line(capsys, f"--out {out} holds a config.json that is not a tensorgan run's")
    assert (out / "config.json").read_text() == text
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]     # nothing else written


# ---------------------------------------------------------------------------------------------
# Ctrl-C while the package is still importing (before main() can catch it)
# ---------------------------------------------------------------------------------------------
_INTERRUPT_IMPORT = '''
import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorgan.functional":
            raise KeyboardInterrupt             # as Ctrl-C during the import
sys.meta_path.insert(0, Interrupt())
'''


def test_ctrl_c_while_importing_is_one_line_for_the_command_only(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(_INTERRUPT_IMPORT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    run = subprocess.run([sys.executable, "-m", "tensorgan", "train", "--steps", "1"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.stderr == "tensorgan: interrupted\n"         # was: a traceback through runpy
    assert run.returncode in (130, -signal.SIGINT)          # (Python ends itself by SIGINT)
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------------------------------------
# two trainings into one --out
# ---------------------------------------------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="no flock on Windows")
@pytest.mark.parametrize("resume", [False, True])
def test_a_second_train_into_an_out_in_use_is_refused_and_changes_nothing(folder, tmp_path, capsys, resume):
    import fcntl
    out = tmp_path / "run"
    if resume:
        assert main(train_args(folder, out, 2)) == 0
    else:
        out.mkdir()
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    busy = os.open(out, os.O_RDONLY)      # as the first 'tensorgan train' holds it while it runs
    try:
        fcntl.flock(busy, fcntl.LOCK_EX | fcntl.LOCK_NB)
        capsys.readouterr()
        # was: both trained, each overwriting the other's checkpoints, one log lost
        assert main(train_args(folder, out, 4, *(["--resume"] if resume else []))) == 1
        one_error_line(capsys, f"--out {out} is in use: another 'tensorgan train'")
    finally:
        os.close(busy)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert main(train_args(folder, out, 4, *(["--resume"] if resume else []))) == 0   # free again


# ---------------------------------------------------------------------------------------------
# ~ in paths the shell does not expand (--out=~/runs)
# ---------------------------------------------------------------------------------------------
def test_tilde_paths_are_expanded_as_the_datasets_are(folder, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert main([*train_args(folder, "x", 1)[:-3], "--out=~/run", "--no-progress"]) == 0
    assert (home / "run" / "checkpoint.npz").is_file() and not (tmp_path / "~").exists()  # was: ./~/run
    assert main(["sample", "--checkpoint=~/run/checkpoint.npz", "-n", "2", "-o", "~/s.npy"]) == 0
    assert np.load(home / "s.npy").shape == (2, 1, 8, 8)
    parse = build_parser().parse_args
    assert parse(["eval", "~/s.npy"]).samples == str(home / "s.npy")
    assert parse(["eval", "--checkpoint", "~/c.npz"]).checkpoint == str(home / "c.npz")
    assert parse(["train", "--resume", "~/c.npz", "--data-dir", "~/d"]).resume == str(home / "c.npz")
    assert parse(["train", "--resume"]).resume == ""          # (bare --resume: the run's own)


# ---------------------------------------------------------------------------------------------
# an MNIST-shaped run: eval's -n, a switch added on --resume
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mnist28") / "run"
    assert main(["train", "--steps", "1", "--batch-size", "2", "--base-channels", "2", "--latent-dim", "2",
                 "--out", str(out), "--no-progress"]) == 0
    return out


def test_eval_refuses_an_n_that_would_not_fit_in_memory_in_one_line(mnist_run, capsys):
    capsys.readouterr()
    # was: "internal error: MemoryError: Unable to allocate 1.46 TiB" (sample had the check, eval not)
    assert main(["eval", "--checkpoint", str(mnist_run / "checkpoint.npz"), "-n", "99999999999"]) == 1
    one_error_line(capsys, "-n 99999999999 needs about", "GiB of memory")


def test_a_switch_added_on_resume_is_named_without_python_booleans(mnist_run, capsys):
    capsys.readouterr()
    assert main(["train", "--resume", str(mnist_run / "checkpoint.npz"), "--conditional", "--steps", "2",
                 "--no-progress"]) == 1
    line = one_error_line(capsys, "--conditional here, not in the run")   # was: "True here, False in the run"
    assert "True" not in line and "False" not in line
