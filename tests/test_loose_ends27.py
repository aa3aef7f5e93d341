"""Loose ends found by session 27's reviewers: typed errors naming the bad argument, an empty
MNIST folder, nn.Upsample to an empty size, the benchmark / script polish."""
from __future__ import annotations

import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import InputTypeError, ShapeArgumentError
import test_metrics

fake_assets = test_metrics.fake_assets      # test_metrics' fixture, checked below


@pytest.mark.parametrize("call", [
    lambda a: tg.rand_like(a, a), lambda a: tg.randn_like(a, a), lambda a: tg.poisson(a, a)])
def test_tensor_as_generator_is_typed(call):
    with pytest.raises(InputTypeError, match="generator"):
        call(tg.ones(2, 3))


@pytest.mark.parametrize("p", ["x", "0.5", [0.5]])
def test_bernoulli_p_not_a_number_is_typed(p):
    with pytest.raises(InputTypeError, match="bernoulli: p"):
        tg.bernoulli(tg.ones(2, 3), p)


def test_bernoulli_number_p_still_draws():
    a = tg.zeros(50)
    assert tg.bernoulli(a, 1.0).numpy().tolist() == [1.0] * 50
    assert tg.bernoulli(a, True).numpy().tolist() == [1.0] * 50
    assert tg.bernoulli(a, np.float64(0)).numpy().tolist() == [0.0] * 50


@pytest.mark.parametrize("values", ["x", None, ["x"]])
def test_searchsorted_bad_input_is_typed(values):
    with pytest.raises(InputTypeError, match="searchsorted: input"):
        tg.searchsorted(tg.arange(5.0), values)


def test_searchsorted_numbers_and_lists_still_work():
    seq = tg.arange(5.0)
    assert int(tg.searchsorted(seq, 1.5)) == 2
    assert tg.searchsorted(seq, [0.5, 3.5]).numpy().tolist() == [1, 4]


@pytest.mark.parametrize("shapes", [
    (np.ones((2, 3)), (2, 3)), ("ab",), (2.5,), ((2, (3,)),), (np.int64(3), (2, 1))])
def test_broadcast_shapes_non_int_shape_is_typed(shapes):
    # torch: a RuntimeError (a TypeError for a string); ShapeArgumentError is both
    with pytest.raises(ShapeArgumentError, match="broadcast_shapes: shape 0") as info:
        tg.broadcast_shapes(*shapes)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, TypeError)


def test_broadcast_shapes_still_broadcasts_and_refuses_mismatch():
    assert tg.broadcast_shapes([2, 1], (1, 3), 3) == (2, 3)
    with pytest.raises(tg.errors.ShapeError, match="do not broadcast"):
        tg.broadcast_shapes((2,), (3,))


@pytest.mark.parametrize("size, stride, name", [
    (np.ones((2, 3)), (3, 1), "size"), ((2, 3), tg.ones(2, 3), "stride"), ("ab", (1, 1), "size"),
    ((2.5, 3), (3, 1), "size"), (3, 1, "size"), (None, (1,), "size")])
def test_empty_strided_non_int_sizes_are_typed(size, stride, name):
    with pytest.raises(InputTypeError, match=f"empty_strided: {name} must be a tuple of ints"):
        tg.empty_strided(size, stride)


def test_empty_strided_int_sizes_still_work():
    assert tg.empty_strided(np.array([2, 3]), [3, 1]).shape == (2, 3)


@pytest.mark.parametrize("call, name", [
    (lambda a: tg.pca_lowrank(a, "x"), "pca_lowrank: q"),
    (lambda a: tg.pca_lowrank(a, 2.5), "pca_lowrank: q"),
    (lambda a: tg.pca_lowrank(a, 2, niter="x"), "pca_lowrank: niter"),
    (lambda a: tg.pca_lowrank(a, 2, niter=None), "pca_lowrank: niter"),
    (lambda a: tg.svd_lowrank(a, "x"), "svd_lowrank: q"),
    (lambda a: tg.svd_lowrank(a, 2, niter=1.5), "svd_lowrank: niter")])
def test_lowrank_non_int_counts_are_typed(call, name):
    with pytest.raises(InputTypeError, match=name):
        call(tg.ones(4, 3, dtype=tg.float64))


def test_pca_lowrank_bool_q_is_one_as_torch():
    U, S, V = tg.pca_lowrank(tg.eye(4, 3, dtype=tg.float64), True)
    assert U.shape == (4, 1) and S.shape == (1,) and V.shape == (3, 1)


def _empty_mnist(folder):
    from tensorgan.data.idx import write_idx
    write_idx(folder / "train-images-idx3-ubyte", np.zeros((0, 28, 28), np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros((0,), np.uint8))
    return folder / "train-images-idx3-ubyte"


@pytest.mark.parametrize("verify", [True, False])
def test_empty_mnist_folder_names_the_file(tmp_path, verify):
    images = _empty_mnist(tmp_path)
    with pytest.raises(tg.errors.DataError, match="dataset is empty") as info:
        tg.data.load_mnist("train", tmp_path, verify=verify)
    assert str(images) in str(info.value)


def test_train_cli_on_empty_mnist_says_empty_not_batch_size(tmp_path, capsys):
    from tensorgan.cli import main
    images = _empty_mnist(tmp_path)
    code = main(["train", "--data-dir", str(tmp_path), "--batch-size", "4", "--no-verify",
                 "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert code != 0 and "dataset is empty" in err and str(images) in err
    assert "--batch-size" not in err


@pytest.mark.parametrize("size, out", [((2, 0), (1, 2, 2, 0)), (0, (1, 2, 0, 0))])
def test_upsample_area_to_an_empty_size_is_built_as_torch(size, out):
    up = tg.nn.Upsample(size=size, mode="area")
    assert up(tg.ones(1, 2, 4, 4)).shape == out


@pytest.mark.parametrize("size, mode, error", [((2, 0), "nearest", RuntimeError), ((-1, 2), "area", RuntimeError),
                                               (2.0, "area", TypeError)])
def test_upsample_other_bad_sizes_still_refused(size, mode, error):
    up = tg.nn.Upsample(size=size, mode=mode)      # built, as torch; refused when called
    with pytest.raises(error, match="interpolate: size"):
        up(tg.ones(1, 2, 4, 4))


def test_malloc_benchmark_columns_stay_apart_with_4_digit_values():
    from benchmarks.malloc import table
    rows = [dict(mode=m, faults=f, sys_ms=s, user_ms=u, wall_ms=u) for m, f, s, u in (
        ("default", 12345, 434.5, 1855.5), ("default", 12000, 434.5, 1900.5), ("keep", 3, 0.5, 1000.0))]
    lines = table(rows)
    assert "434.5 (434.5-434.5)  1878.0 (1855.5-1900.5)" in lines[1]
    for line in lines[1:]:      # each cell ends in ')' and the next starts after two spaces
        assert line.count(")  ") == 3 and len(line) == len(lines[0])


_WITHOUT_TORCH = """
import importlib.abc, runpy, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoTorch())
runpy.run_path(sys.argv[1], run_name="__main__")
"""


@pytest.mark.parametrize("script", ["ops_vs_torch.py", "penalty_vs_torch.py"])
def test_torch_comparison_scripts_without_torch_say_so_in_one_line(script):
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", _WITHOUT_TORCH, str(root / "scripts" / script)],
                          capture_output=True, text=True, cwd=root, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]      # one line, no traceback
    assert f"{script} compares tensorgan with PyTorch and needs torch" in done.stderr
    assert "pip install torch==2.13.0" in done.stderr and "CPU build" in done.stderr


def test_train_step_memory_only_json_has_the_machine_block(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path
    root, dest = Path(__file__).resolve().parents[1], tmp_path / "x.json"
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-m", "benchmarks.train_step", "--memory-only", "--no-torch",
                           "--memory-steps", "4", "--batch", "2", "--json", str(dest)],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    machine = json.loads(dest.read_text())["machine"]
    assert {"numba_threads", "openblas_threads", "malloc", "git", "torch"} <= set(machine)
    assert machine["torch"] is None and "--no-torch" in machine["torch_note"]


def test_kernels_benchmark_usage_line_lists_quiet():
    from benchmarks import kernels
    usage = kernels.__doc__.split("\n\n")[1]
    assert "[--quiet]" in usage and "python -m benchmarks.kernels" in usage


def test_metrics_asset_fixture_leaves_importlib_resources_alone(fake_assets):
    import importlib.resources
    from tensorgan import metrics
    assert metrics.resources.files("tensorgan") == fake_assets.parent       # metrics' view: patched
    assert importlib.resources.files("tensorgan") != fake_assets.parent     # everyone else's: not
    assert len(tg.data.load_bundled_mnist(verify=False)) > 0                # (it failed before)


def test_bernoulli_p_may_be_a_zero_dim_tensor_as_torch():
    """torch reads a 0-d tensor as its float p; a 1-d one is refused (torch: TypeError)."""
    draws = tg.bernoulli(tg.ones(4000), tg.tensor(0.25), generator=tg.Generator().manual_seed(0))
    assert draws.shape == (4000,) and set(np.unique(draws.numpy())) <= {0.0, 1.0}
    assert abs(float(draws.mean()) - 0.25) < 0.03
    with pytest.raises(TypeError):
        tg.bernoulli(tg.ones(3), tg.tensor([0.5, 0.5, 0.5]))
