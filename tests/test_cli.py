"""The tensorgan command line: train/sample files, resume (also after SIGKILL), one-line errors."""
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tensorgan.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("blobs")
    rng = np.random.default_rng(0)
    for i in range(32):
        img = np.zeros((8, 8), np.uint8)
        y, x = rng.integers(0, 5, 2)
        img[y:y + 3, x:x + 3] = 255
        Image.fromarray(img).save(root / f"{i:03d}.png")
    return root


def train_args(folder, out, steps=4, *extra):
    return ["train", "--dataset", f"folder:{folder}", "--image-size", "8", "--channels", "1",
            "--base-channels", "4", "--latent-dim", "8", "--batch-size", "8", "--steps", str(steps),
            "--sample-every", "2", "--checkpoint-every", "2", "--out", str(out), "--no-progress", *extra]


def losses(run_dir):
    lines = (Path(run_dir) / "metrics.jsonl").read_text().splitlines()
    return [(r["step"], r["loss_d"], r["loss_g"]) for r in map(json.loads, lines)]


def test_train_writes_grid_metrics_checkpoint_and_sample_reads_it(folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_args(folder, out)) == 0
    assert "trained to step 4" in capsys.readouterr().out
    assert (out / "samples.png").is_file() and (out / "samples" / "step_000002.png").is_file()
    assert (out / "checkpoint.npz").is_file()
    assert [s for s, _, _ in losses(out)] == [1, 2, 3, 4]
    assert json.loads((out / "config.json").read_text())["config"]["base_channels"] == 4
    with Image.open(out / "samples.png") as grid:
        assert grid.mode == "L" and grid.size == (2 + 8 * 10, 2 + 8 * 10)  # 64 images, 8 per row

    npy, png = tmp_path / "s.npy", tmp_path / "s.png"
    assert main(["sample", "--checkpoint", str(out / "checkpoint.npz"), "-n", "5", "-o", str(npy),
                 "--seed", "3"]) == 0
    images = np.load(npy, allow_pickle=False)
    assert images.dtype == np.uint8 and images.shape == (5, 1, 8, 8)
    assert main(["sample", "--checkpoint", str(out / "checkpoint.npz"), "-n", "5", "-o", str(npy),
                 "--seed", "3"]) == 0
    np.testing.assert_array_equal(np.load(npy), images)  # same seed, same images
    assert main(["sample", "--checkpoint", str(out / "checkpoint.npz"), "-n", "6", "-o", str(png)]) == 0
    with Image.open(png) as grid:
        assert grid.size == (2 + 3 * 10, 2 + 2 * 10)

    # resume continues the same run; a second plain train into it refuses to overwrite
    assert main(train_args(folder, out, 6, "--resume")) == 0
    assert [s for s, _, _ in losses(out)] == [1, 2, 3, 4, 5, 6]
    capsys.readouterr()
    assert main(train_args(folder, out, 6)) == 1
    assert "already holds a checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("argv, code, pattern", [
    (["train", "--lr", "-1"], 2, "--lr: expected a positive number"),
    (["train", "--batch-size", "0"], 2, "--batch-size: expected a positive integer"),
    (["train", "--steps", "3", "--epochs", "1"], 2, "not allowed with argument"),
    (["train", "--dataset", "imagenet", "--out", "{tmp}/r"], 1, "--dataset must be 'mnist' or 'folder:PATH'"),
    (["train", "--dataset", "folder:{tmp}/nowhere", "--out", "{tmp}/r"], 1, "nowhere"),
    (["train", "--resume", "{tmp}/none.npz", "--out", "{tmp}/r"], 1, "does not exist"),
    (["sample", "--checkpoint", "{tmp}/none.npz", "-o", "{tmp}/x.png"], 1, "does not exist"),
    (["sample", "--checkpoint", "{tmp}/junk.npz", "-o", "{tmp}/x.png"], 1, "not an .npz file"),
    (["sample", "--checkpoint", "{tmp}/junk.npz", "-o", "{tmp}/x.jpg"], 1, "must end in .npy"),
    (["sample", "--checkpoint", "x.npz", "-n", "0", "-o", "x.png"], 2, "-n/--num"),
    (["sample", "-o", "x.png"], 2, "--checkpoint"),
    (["frobnicate"], 2, "invalid choice"),
])
def test_bad_input_is_one_line_on_stderr_and_nonzero(tmp_path, capsys, argv, code, pattern):
    (tmp_path / "junk.npz").write_text("junk")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == code
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tensorgan: error:") and pattern in err[0], captured.err


def test_batch_larger_than_the_dataset(folder, tmp_path, capsys):
    argv = train_args(folder, tmp_path / "r")
    argv[argv.index("--batch-size") + 1] = "64"
    assert main(argv) == 1
    assert "larger than the dataset" in capsys.readouterr().err


def test_error_from_a_subprocess_has_no_traceback_unless_debug(tmp_path):
    cmd = [sys.executable, "-m", "tensorgan", "sample", "--checkpoint", str(tmp_path / "x.npz"),
           "-o", str(tmp_path / "y.png")]
    quiet = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr
    assert quiet.stderr.strip().count("\n") == 0
    loud = subprocess.run(cmd + ["--debug"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert loud.returncode == 1 and "Traceback" in loud.stderr and "CheckpointError" in loud.stderr


def test_sigkill_mid_run_then_resume_matches_an_uninterrupted_run(folder, tmp_path):
    steps = 24
    reference = tmp_path / "reference"
    assert main(train_args(folder, reference, steps)) == 0

    killed = tmp_path / "killed"
    argv = train_args(folder, killed, 10_000)
    proc = subprocess.Popen([sys.executable, "-m", "tensorgan", *argv], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = killed / "metrics.jsonl"
    deadline = time.time() + 120
    try:
        while time.time() < deadline and proc.poll() is None:
            if metrics.exists() and metrics.read_text().count("\n") >= 7:
                break
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    from tensorgan.checkpoint import load_checkpoint
    saved_step = load_checkpoint(killed / "checkpoint.npz")["step"]
    assert 2 <= saved_step < steps
    assert main(train_args(folder, killed, steps, "--resume")) == 0
    assert losses(killed) == losses(reference)


@pytest.mark.parametrize("extra, kept", [((), True), (("--return-freed-memory",), False)])
def test_train_keeps_freed_memory_unless_asked_not_to(folder, tmp_path, monkeypatch, extra, kept):
    import tensorgan.backend as backend
    calls = []
    monkeypatch.setattr(backend, "keep_freed_memory", lambda: calls.append(1) or True)
    assert main(train_args(folder, tmp_path / "run", 1, *extra)) == 0
    assert calls == ([1] if kept else [])


def test_keep_freed_memory_applies_only_to_glibc_and_defers_to_the_environment(monkeypatch):
    import platform
    import tensorgan
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    on_glibc = platform.libc_ver()[0] == "glibc"
    assert tensorgan.keep_freed_memory() is on_glibc        # mallopt accepted both values
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "0")
    assert tensorgan.keep_freed_memory() is False          # the user's own setting wins
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    monkeypatch.setattr(platform, "libc_ver", lambda *a, **k: ("", ""))
    assert tensorgan.keep_freed_memory() is False          # musl, macOS, Windows: nothing to set


def test_keep_freed_memory_stops_the_page_faults_of_repeated_large_arrays():
    """A subprocess (the setting is process-wide): allocating and freeing the same 8 MB arrays
    page-faults them in every time under glibc's defaults, once after keep_freed_memory()."""
    import platform
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("keep_freed_memory only changes glibc's malloc")
    code = (
        "import resource, sys, numpy as np, tensorgan\n"
        "if sys.argv[1] == 'keep': assert tensorgan.keep_freed_memory()\n"
        "def cycle():\n"
        "    a = [np.ones(2 << 20, np.float32) for _ in range(8)]\n"
        "    del a\n"
        "cycle(); cycle()\n"
        "f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(10): cycle()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)\n")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("MALLOC_")}
    faults = {mode: int(subprocess.run([sys.executable, "-c", code, mode], capture_output=True,
                                       text=True, check=True, env=env).stdout)
              for mode in ("default", "keep")}
    # (How many faults a cycle costs depends on the page size the kernel hands out -- 4 KiB or,
    # with transparent huge pages, 2 MiB -- so compare the two runs, not a page count.)
    assert faults["default"] > 0 and 10 * faults["keep"] < faults["default"], faults


def test_resume_from_another_directory_with_relative_paths(folder, tmp_path, monkeypatch, capsys):
    """Dataset folder and --data-dir are stored as absolute paths, so a run started with
    relative ones resumes from any working directory."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "imgs").symlink_to(folder)
    assert main(train_args("imgs", "run", 2)) == 0              # both paths relative to work/
    monkeypatch.chdir(tmp_path)
    resume = train_args("unused", work / "run", 4, "--resume")
    resume = [a for a in resume if not a.startswith("folder:") and a != "--dataset"]
    assert main(resume) == 0, capsys.readouterr().err
    assert [s for s, _, _ in losses(work / "run")] == [1, 2, 3, 4]


def test_mnist_data_dir_is_stored_absolute_and_a_wrong_dataset_size_is_named(tmp_path, monkeypatch,
                                                                             capsys):
    from tensorgan import data
    from tensorgan.data import ArrayDataset
    seen = []
    sizes = {"small": 16, "other": 24}

    def fake_mnist(data_dir=None, **_):
        seen.append(data_dir)
        n = sizes[Path(data_dir).name] if data_dir else 16
        ds = ArrayDataset(np.zeros((n, 1, 28, 28), np.uint8), name=f"fake {n}")
        ds.source = str(data_dir) if data_dir else "bundled"   # as MnistDataset records it
        return ds

    monkeypatch.setattr(data, "mnist_dataset", fake_mnist)
    for d in ("small", "other"):
        (tmp_path / d).mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TENSORGAN_DATA", raising=False)
    base = ["train", "--base-channels", "4", "--latent-dim", "8", "--batch-size", "8",
            "--sample-every", "2", "--checkpoint-every", "2", "--out", str(tmp_path / "run"),
            "--no-progress", "--data-dir", "small", "--steps", "2"]
    assert main(base) == 0
    assert seen == ["small"]                                     # read as given, stored absolute
    monkeypatch.chdir(tmp_path / "other")
    resume = ["train", "--out", str(tmp_path / "run"), "--resume", "--steps", "3", "--no-progress"]
    assert main(resume) == 0                                     # the stored absolute path
    assert seen[-1] == str(tmp_path / "small")
    assert main(resume[:-1] + ["--steps", "4", "--data-dir", str(tmp_path / "other")]) == 1
    err = capsys.readouterr().err
    assert "trained on 16 images" in err and "24 were loaded" in err and "--data-dir" in err


@pytest.mark.parametrize("make, needle", [
    (lambda p: p.write_text("hello"), "not a .npy file (no NumPy header)"),
    (lambda p: np.savez(p, a=np.zeros(3)), "is an .npz archive"),
    (lambda p: np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True), "allow_pickle=False"),
    (lambda p: p.write_bytes(b"\x93NUMPY\x01\x00"), "is not a .npy array of images"),
])
def test_eval_names_what_is_wrong_with_a_samples_file(tmp_path, capsys, make, needle):
    path = tmp_path / "samples.npy"
    make(path)
    if not path.exists():                      # np.savez appends .npz
        path = tmp_path / "samples.npy.npz"
    assert main(["eval", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "pickled" not in err[0]


def test_skip_mode_run_finishes_with_a_finite_checkpoint_and_counts_the_skips(tmp_path, capsys):
    """--lr 1e30 makes every forward pass overflow after the first update: with
    --on-nonfinite skip the run finishes, says how many updates it skipped, prints nothing else on
    stderr, and its checkpoint holds finite values only."""
    root = tmp_path / "imgs"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(root / f"{i}.png")
    out = tmp_path / "run"
    args = train_args(root, out, 6, "--lr", "1e30", "--on-nonfinite", "skip")
    args[args.index("--image-size") + 1] = "16"          # 16x16: D has a batch norm
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "non-finite updates skipped" in captured.out
    assert "Warning" not in captured.err
    from tensorgan.checkpoint import load_checkpoint
    saved = load_checkpoint(out / "checkpoint.npz")
    assert saved["step"] == 6
    for arrays in saved["models"].values():
        assert all(np.isfinite(a).all() for a in arrays.values())


@pytest.fixture
def fake_mnist(monkeypatch, tmp_path):
    """mnist_dataset() -> 16 blank 1x28x28 images: the CLI's MNIST paths without the data."""
    from tensorgan import data
    from tensorgan.data import ArrayDataset

    def fake(data_dir=None, **_):
        ds = ArrayDataset(np.zeros((16, 1, 28, 28), np.uint8), name="fake 16")
        ds.source = "bundled"
        return ds

    monkeypatch.setattr(data, "mnist_dataset", fake)
    monkeypatch.delenv("TENSORGAN_DATA", raising=False)
    return ["train", "--base-channels", "4", "--latent-dim", "8", "--batch-size", "8",
            "--sample-every", "2", "--no-progress", "--out", str(tmp_path / "run")]


def eval_steps(run_dir):
    return [json.loads(line)["step"] for line in (Path(run_dir) / "eval.jsonl").read_text().splitlines()]


def test_eval_every_is_kept_on_resume_and_rescored_steps_are_not_duplicated(fake_mnist, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(fake_mnist + ["--steps", "2", "--checkpoint-every", "2", "--eval-every", "1"]) == 0
    assert eval_steps(run) == [1, 2]
    # as after a crash between a checkpoint and the next eval: a row past the checkpoint's step
    with open(run / "eval.jsonl", "a") as f:
        f.write(json.dumps({"step": 3}) + "\n")
    assert main(["train", "--out", str(run), "--resume", "--steps", "4", "--no-progress"]) == 0
    assert eval_steps(run) == [1, 2, 3, 4]                  # no flag: still scored, step 3 once
    assert "eval step 4" in capsys.readouterr().err
    assert main(["train", "--out", str(run), "--resume", "--steps", "5", "--no-progress",
                 "--eval-every", "0"]) == 0
    assert eval_steps(run) == [1, 2, 3, 4]                  # 0: off from here on


def test_train_options_that_cannot_apply_are_refused(fake_mnist, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(fake_mnist + ["--steps", "2", "--image-size", "32"]) == 2
    assert "--image-size applies to --dataset folder" in capsys.readouterr().err
    assert not run.exists()                                  # refused before any file
    assert main(fake_mnist + ["--steps", "2"]) == 0
    capsys.readouterr()
    assert main(["train", "--out", str(run), "--resume", "--steps", "2", "--no-progress"]) == 0
    assert "already at step 2 of 2" in capsys.readouterr().err
    (tmp_path / "afile").write_text("x")
    argv = fake_mnist[:-1] + [str(tmp_path / "afile"), "--steps", "2"]
    assert main(argv) == 1
    assert "is a file, not a directory" in capsys.readouterr().err


def test_a_bad_device_variable_is_named_not_blamed_on_the_checkpoint(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TENSORGAN_DEVICE", "bogus")
    assert main(["sample", "--checkpoint", str(tmp_path / "c.npz"), "-o", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "$TENSORGAN_DEVICE" in err and "bogus" in err and "checkpoint" not in err


def test_eval_argument_mistakes_are_usage_errors(tmp_path, capsys):
    assert main(["eval"]) == 2
    assert "give SAMPLES.npy or --checkpoint" in capsys.readouterr().err
    np.save(tmp_path / "s.npy", np.zeros((4, 1, 28, 28), np.uint8))
    assert main(["eval", str(tmp_path / "s.npy"), "--checkpoint", "c.npz"]) == 2
    assert "not both" in capsys.readouterr().err


def test_warnings_are_one_line(tmp_path, capsys):
    np.save(tmp_path / "s.npy", np.random.default_rng(0).integers(0, 255, (10, 1, 28, 28), dtype=np.uint8))
    assert main(["eval", str(tmp_path / "s.npy")]) == 0
    warning_lines = [line for line in capsys.readouterr().err.splitlines() if "warning" in line.lower()]
    assert warning_lines and all(line.startswith("tensorgan: warning:") for line in warning_lines)


def test_no_verify_trains_on_other_data_in_mnists_files_and_is_kept_on_resume(tmp_path, capsys, monkeypatch):
    from tensorgan.data import write_idx
    monkeypatch.delenv("TENSORGAN_DATA", raising=False)
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (16, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 16, dtype=np.uint8))
    argv = ["train", "--data-dir", str(tmp_path), "--base-channels", "4", "--latent-dim", "8",
            "--batch-size", "8", "--no-progress", "--out", str(tmp_path / "run")]
    assert main(argv + ["--steps", "1"]) == 1
    assert "--no-verify" in capsys.readouterr().err
    assert main(argv + ["--steps", "1", "--no-verify"]) == 0
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--steps", "2", "--no-progress"]) == 0


def test_resume_warns_when_the_folder_holds_other_images_of_the_same_count(folder, tmp_path, capsys):
    imgs = tmp_path / "imgs"
    shutil.copytree(folder, imgs)
    assert main(train_args(imgs, tmp_path / "run", 2)) == 0
    assert main(train_args(imgs, tmp_path / "run", 3, "--resume")) == 0     # same files: quiet
    assert "not those the checkpoint" not in capsys.readouterr().err
    Image.fromarray(np.full((8, 8), 7, np.uint8)).save(imgs / "000.png")  # same count, other pixels
    assert main(train_args(imgs, tmp_path / "run", 4, "--resume")) == 0
    assert "32 images loaded are not those the checkpoint was trained on" in capsys.readouterr().err


def test_image_size_takes_height_by_width(folder, tmp_path, capsys):
    args = train_args(folder, tmp_path / "run", 2)
    args[args.index("--image-size") + 1] = "16x8"
    assert main(args) == 0, capsys.readouterr().err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["image_shape"] == [1, 16, 8]
    resume = train_args(folder, tmp_path / "run", 3, "--resume")
    resume[resume.index("--image-size") + 1] = "16x8"             # the same: fine
    assert main(resume) == 0, capsys.readouterr().err
    resume[resume.index("--image-size") + 1] = "16"               # another shape: refused
    assert main(resume) == 1 and "trains on 1x16x8 images" in capsys.readouterr().err
    for bad in ("0x8", "8x", "ax8", "8x8x8"):
        assert main(train_args(folder, tmp_path / "bad", 2) + ["--image-size", bad]) == 2
        assert "HxW (48x32) of positive integers, got " + repr(bad) in capsys.readouterr().err


def test_r1_gamma_option_trains_logs_the_penalty_and_is_kept_on_resume(folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_args(folder, out, 2, "--r1-gamma", "5")) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and all(r["r1"] > 0 for r in rows)
    assert json.loads((out / "config.json").read_text())["config"]["r1_gamma"] == 5.0
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume", "--steps", "3", "--no-progress",
                 "--r1-gamma", "1"]) == 1
    assert "--r1-gamma differs from the checkpoint" in capsys.readouterr().err
    assert main(train_args(folder, tmp_path / "bad", 2, "--r1-gamma", "-1")) == 2
    assert "expected a number >= 0" in capsys.readouterr().err
    # a checkpoint from before the option: it ran without R1, which --r1-gamma 0 restates
    from tensorgan.checkpoint import load_checkpoint, save_checkpoint
    old = {k: v for k, v in load_checkpoint(out / "checkpoint.npz").items()
           if not k.startswith("format")}                      # (the file header's own keys)
    del old["config"]["r1_gamma"], old["config"]["r1_every"]
    old["config"]["steps"] = 2
    save_checkpoint(out / "old.npz", old)
    assert main(["train", "--out", str(out), "--resume", str(out / "old.npz"), "--steps", "3",
                 "--no-progress", "--r1-gamma", "0", "--r1-every", "1"]) == 0


def test_hinge_loss_option_is_recorded_and_kept_on_resume(folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_args(folder, out, 2, "--loss", "hinge")) == 0
    assert json.loads((out / "config.json").read_text())["config"]["loss"] == "hinge"
    assert main(["train", "--out", str(out), "--resume", "--steps", "3", "--no-progress",
                 "--loss", "bce"]) == 1
    assert "--loss differs from the checkpoint" in capsys.readouterr().err
    assert main(train_args(folder, tmp_path / "bad", 2, "--loss", "hinge", "--generator-loss",
                           "minimax")) == 2       # flags that do not go together: a usage error
    assert "a choice of --loss 'bce'" in capsys.readouterr().err


def test_wgan_gp_options_are_recorded_kept_on_resume_and_sampled(folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_args(folder, out, 2, "--loss", "wgan-gp", "--d-norm", "layer",
                           "--gp-lambda", "5")) == 0
    saved = json.loads((out / "config.json").read_text())["config"]
    assert (saved["loss"], saved["d_norm"], saved["gp_lambda"]) == ("wgan-gp", "layer", 5.0)
    assert "gp" in json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert main(["train", "--out", str(out), "--resume", "--steps", "3", "--no-progress",
                 "--gp-lambda", "10"]) == 1
    assert "--gp-lambda differs from the checkpoint" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--resume", "--steps", "4", "--no-progress"]) == 0
    npy = tmp_path / "s.npy"                    # the layer-normalized critic rebuilds from the file
    assert main(["sample", "--checkpoint", str(out / "checkpoint.npz"), "-n", "3", "-o", str(npy)]) == 0
    assert main(train_args(folder, tmp_path / "bad", 2, "--loss", "wgan-gp")) == 2
    assert "batch-normalized critic" in capsys.readouterr().err


def test_n_critic_and_adam_betas_are_options_recorded_and_kept_on_resume(folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_args(folder, out, 3, "--loss", "wgan-gp", "--d-norm", "none", "--n-critic", "2",
                           "--beta1", "0", "--beta2", "0.9")) == 0
    assert "Loss_G" in capsys.readouterr().out        # G's last loss, though step 3 was D-only
    saved = json.loads((out / "config.json").read_text())["config"]
    assert (saved["n_critic"], saved["beta1"], saved["beta2"]) == (2, 0.0, 0.9)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [("loss_g" in r) for r in records] == [False, True, False]
    for option, value in (("--n-critic", "5"), ("--beta2", "0.99")):
        assert main(["train", "--out", str(out), "--resume", "--steps", "4", "--no-progress",
                     option, value]) == 1
        assert f"{option} differs from the checkpoint" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--resume", "--steps", "4", "--no-progress"]) == 0
    assert main(train_args(folder, tmp_path / "bad", 2, "--beta1", "1")) == 2
    assert "--beta1: expected a number in [0, 1), got 1" in capsys.readouterr().err


def test_resume_continues_in_the_checkpoints_folder_and_never_overwrites_another_run(folder, tmp_path,
                                                                                     capsys, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(train_args(folder, a, 2)) == 0 and main(train_args(folder, b, 2, "--seed", "1")) == 0
    b_checkpoint = (b / "checkpoint.npz").read_bytes()
    b_log = (b / "metrics.jsonl").read_text()
    assert main(["train", "--resume", str(a / "checkpoint.npz"), "--out", str(b), "--steps", "3",
                 "--no-progress"]) == 1
    assert "holds another run's checkpoint" in capsys.readouterr().err
    assert (b / "checkpoint.npz").read_bytes() == b_checkpoint and (b / "metrics.jsonl").read_text() == b_log
    monkeypatch.chdir(tmp_path)                 # no --out: the checkpoint's own folder, not runs/dcgan
    assert main(["train", "--resume", str(a / "checkpoint.npz"), "--steps", "3", "--no-progress"]) == 0
    assert [json.loads(line)["step"] for line in (a / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
    assert not (tmp_path / "runs").exists()
    fork = tmp_path / "fork"                    # an empty --out takes a copy of the run onward
    assert main(["train", "--resume", str(a / "checkpoint.npz"), "--out", str(fork), "--steps", "4",
                 "--no-progress"]) == 0
    assert (fork / "checkpoint.npz").exists() and (b / "checkpoint.npz").read_bytes() == b_checkpoint


def test_a_checkpoint_with_an_invalid_config_value_is_a_checkpoint_error(folder, tmp_path, capsys):
    from tensorgan.checkpoint import load_checkpoint, save_checkpoint
    out = tmp_path / "run"
    assert main(train_args(folder, out, 2)) == 0
    saved = {k: v for k, v in load_checkpoint(out / "checkpoint.npz").items() if not k.startswith("format")}
    saved["config"]["batch_size"] = "x"
    save_checkpoint(out / "checkpoint.npz", saved)
    assert main(["train", "--out", str(out), "--resume", "--steps", "3", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "the checkpoint's training config is invalid: batch_size must be a positive integer, got 'x'" in err
    assert "internal error" not in err


def test_sample_refuses_an_n_that_would_not_fit_in_memory(folder, tmp_path, capsys, monkeypatch):
    import tensorgan.cli as cli
    out = tmp_path / "run"
    assert main(train_args(folder, out, 2)) == 0
    capsys.readouterr()
    sample = ["sample", "--checkpoint", str(out / "checkpoint.npz"), "-n", "1000", "-o", str(tmp_path / "s.npy")]
    need = 1000 * (4 * 8 + 3 * 64)                         # latent 8, 1x8x8 images
    monkeypatch.setattr(cli, "_available_memory", lambda: need - 1)
    assert main(sample) == 1
    assert "-n 1000 needs about" in capsys.readouterr().err and not (tmp_path / "s.npy").exists()
    monkeypatch.setattr(cli, "_available_memory", lambda: need)
    assert main(sample) == 0
