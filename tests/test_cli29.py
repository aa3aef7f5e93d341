"""The `train` command's stops and refusals (session 29): SIGTERM before the first step, a second
Ctrl-C while the final checkpoint is written, seeds outside torch's range, the run-directory lock
and forked children, and "in use" before any other complaint about a busy --out."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tensorgan.cli as cli
import tensorgan.train as train_module
from cli_runs import random_image_folder, tiny_train_args
from tensorgan.checkpoint import load_checkpoint
from tensorgan.cli import build_parser, main
from tensorgan.errors import ConfigError
from tensorgan.fileio import atomic_write
from tensorgan.train import TrainConfig

REPO = Path(__file__).resolve().parents[1]
SEED_RANGE = "-9223372036854775808 .. 18446744073709551615"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return random_image_folder(tmp_path_factory.mktemp("blobs29"), 8, seed=29)


def train_args(folder, out, steps=2, *extra):
    return tiny_train_args(folder, out, steps, *extra, sample_every=100)


def error_lines(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.fixture
def unhandled_sigterm_fails():
    """A SIGTERM that main() does not handle fails the test instead of killing pytest."""
    def fail(signum, frame):
        raise AssertionError("SIGTERM reached the test's handler: main() installed none")
    previous = signal.signal(signal.SIGTERM, fail)
    yield
    signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------------------------------
# SIGTERM before the first step
# ---------------------------------------------------------------------------------------------
def _sigterm_before(monkeypatch, name):
    real = getattr(cli, name)

    def terminated_first(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)     # as `kill PID` while the run starts
        return real(*args, **kwargs)
    monkeypatch.setattr(cli, name, terminated_first)


def test_sigterm_while_loading_the_data_says_nothing_was_written_and_exits_143(
        folder, tmp_path, capsys, monkeypatch, unhandled_sigterm_fails):
    _sigterm_before(monkeypatch, "_load_dataset")
    out = tmp_path / "run"
    assert main(train_args(folder, out)) == 143              # was: killed without a word
    assert error_lines(capsys) == "tensorgan: terminated before training began; nothing was written"
    assert not out.exists()
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL      # main restored the test's


def test_sigterm_after_the_run_folder_was_made_names_what_was_written(
        folder, tmp_path, capsys, monkeypatch, unhandled_sigterm_fails):
    _sigterm_before(monkeypatch, "_write_config")
    out = tmp_path / "run"
    assert main(train_args(folder, out)) == 143
    line = error_lines(capsys)
    assert line.startswith("tensorgan: terminated before training began; no step was run and no "
                           "checkpoint written") and f"created {out}" in line, line
    assert not (out / "checkpoint.npz").exists() and not (out / "metrics.jsonl").exists()
    monkeypatch.undo()
    assert main(train_args(folder, out, 1)) == 0             # the same run starts again there


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/PID/status")
def test_sigterm_while_the_package_imports_is_one_line_and_143(folder, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tensorgan", *train_args(folder, tmp_path / "r")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while not _catches_sigterm(proc.pid):       # _cli_startup's handler, first thing imported
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.005)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err                      # was: -15, nothing said
    assert err == "tensorgan: terminated before training began; nothing was written\n"


def _catches_sigterm(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)


# ---------------------------------------------------------------------------------------------
# a second Ctrl-C while the final checkpoint is written
# ---------------------------------------------------------------------------------------------
def test_a_second_ctrl_c_during_the_final_checkpoint_names_the_intact_checkpoint(
        folder, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert main(train_args(folder, out, 2)) == 0             # checkpoint.npz at step 2
    step = train_module.Trainer.train_step

    def step_then_ctrl_c(self, *args):
        record = step(self, *args)
        if self.step == 3:
            os.kill(os.getpid(), signal.SIGINT)      # the first Ctrl-C: finish, checkpoint, stop
        return record

    def second_ctrl_c_mid_write(path, state):
        def write(f):
            f.write(b"PK\x03\x04 half a checkpoint")
            os.kill(os.getpid(), signal.SIGINT)      # the second one, half way through the file
        return atomic_write(path, write)

    monkeypatch.setattr(train_module.Trainer, "train_step", step_then_ctrl_c)
    monkeypatch.setattr(train_module, "save_checkpoint", second_ctrl_c_mid_write)
    capsys.readouterr()
    assert main(train_args(folder, out, 50, "--resume")) == 130
    ckpt = out / "checkpoint.npz"
    assert error_lines(capsys) == (f"tensorgan: interrupted at step 3 before its checkpoint was "
                                   f"complete; {ckpt} is intact and holds step 2 (continue with "
                                   f"--resume)")   # was: "tensorgan: interrupted"
    assert int(load_checkpoint(ckpt)["step"]) == 2
    assert sorted(p.name for p in out.glob(".*.tmp")) == []


# ---------------------------------------------------------------------------------------------
# seeds: torch.manual_seed's range
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["train"], ["sample", "--checkpoint", "c.npz", "-o", "o.npy"],
                                     ["eval", "--checkpoint", "c.npz"]])
@pytest.mark.parametrize("seed", [str(2**64), str(-2**63 - 1), "1e3"])
def test_a_seed_outside_torchs_range_is_a_usage_error_naming_the_range(command, seed, capsys):
    assert main([*command, "--seed", seed]) == 2               # was: 2**64 trained (train) or
    line = error_lines(capsys)                                # "manual_seed: ..." exit 1 (sample)
    assert line.startswith("tensorgan: error: argument --seed: expected a seed in ") and seed in line
    if seed != "1e3":
        assert SEED_RANGE in line


def test_seeds_in_torchs_range_are_accepted_and_a_negative_one_is_taken_modulo_2_64():
    parse = build_parser().parse_args
    assert parse(["train", "--seed", str(2**64 - 1)]).seed == 2**64 - 1
    assert parse(["train", "--seed", "-1"]).seed == 2**64 - 1       # torch: initial_seed() is 2**64-1
    assert parse(["sample", "--checkpoint", "c", "-o", "o.npy", "--seed", str(-2**63)]).seed == 2**63
    assert parse(["eval", "--seed", "7"]).seed == 7


@pytest.mark.parametrize("seed", [2**64, -1])
def test_train_config_refuses_a_seed_outside_0_to_2_64(seed):
    with pytest.raises(ConfigError, match=r"seed must be an integer in 0 \.\. 2\*\*64 - 1"):
        TrainConfig(seed=seed).validate()


# ---------------------------------------------------------------------------------------------
# the run-directory lock
# ---------------------------------------------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="no flock on Windows")
def test_the_lock_is_not_held_by_a_child_that_outlives_a_killed_trainer(tmp_path):
    import fcntl
    program = ("import os, signal, subprocess, sys\n"
               "from pathlib import Path\n"
               "from tensorgan.cli import _run_dir_lock\n"
               "with _run_dir_lock(Path(sys.argv[1])):\n"
               "    child = subprocess.Popen(['sleep', '60'], close_fds=False, stdout=subprocess.DEVNULL,\n"
               "                             stderr=subprocess.DEVNULL)\n"
               "    print(child.pid, flush=True)\n"
               "    os.kill(os.getpid(), signal.SIGKILL)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    trainer = subprocess.run([sys.executable, "-c", program, str(tmp_path)], capture_output=True,
                             text=True, env=env, timeout=60)
    child = int(trainer.stdout)
    try:
        assert trainer.returncode == -signal.SIGKILL
        os.kill(child, 0)                                    # the child still runs ...
        fd = os.open(tmp_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # ... and does not hold the lock
        finally:
            os.close(fd)
    finally:
        os.kill(child, signal.SIGKILL)


@pytest.mark.skipif(os.name == "nt", reason="no flock on Windows")
def test_a_busy_out_is_in_use_before_it_holds_another_runs_log(folder, tmp_path, capsys):
    import fcntl
    out = tmp_path / "run"
    out.mkdir()
    # what a run with other settings has written before its first checkpoint
    (out / "config.json").write_text(json.dumps({"config": {**TrainConfig().to_dict(), "lr": 0.001}}))
    (out / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss_d": 1.0}) + "\n")
    busy = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(busy, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(train_args(folder, out)) == 1
        line = error_lines(capsys)
    finally:
        os.close(busy)
    assert f"--out {out} is in use: another 'tensorgan train'" in line, line   # was: "another run's"
