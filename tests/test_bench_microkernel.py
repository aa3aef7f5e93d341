"""benchmarks.microkernel: the hand-written micro-kernel GEMM is exact against NumPy's, tails
included, and the benchmark runs end to end (no timing asserted)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not installed
from benchmarks import microkernel as mk  # noqa: E402


@pytest.mark.parametrize("M, K, N", [(8, 1, 48), (1, 300, 1), (13, 257, 50), (64, 16, 97),
                                     (17, 513, 95)])
@pytest.mark.parametrize("tile", [(8, 48), (14, 32)])
def test_matmul_packed_matches_numpy(M, K, N, tile):
    rng = np.random.default_rng(M * 1000 + K + N)
    A = rng.standard_normal((M, K)).astype(np.float32)
    B = rng.standard_normal((K, N)).astype(np.float32)
    got = mk.matmul_packed(A, B, *tile)
    want = A.astype(np.float64) @ B.astype(np.float64)
    assert got.shape == (M, N)
    # float32 sums of K products: error grows like sqrt(K) * eps * |a||b|
    tol = 1e-5 * np.sqrt(K) * np.abs(A).max() * np.abs(B).max() * 4
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def test_kc_blocks_accumulate():
    """K spanning several KC blocks: later blocks add to the first block's stored tile."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((8, 3 * mk.KC + 5)).astype(np.float32)
    B = rng.standard_normal((3 * mk.KC + 5, 48)).astype(np.float32)
    np.testing.assert_allclose(mk.matmul_packed(A, B), A @ B, rtol=1e-4, atol=1e-3)


def test_tile_width_must_fill_registers():
    with pytest.raises(ValueError, match="multiple of 16"):
        mk.make_microkernel(8, 40)


def test_benchmark_runs_on_the_recorded_shapes(tmp_path):
    out = tmp_path / "m.json"
    assert mk.main(["--batch", "2", "--repeats", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["results"]
    assert {r["where"].split(" ")[0] for r in rows} >= {"G.convT", "D.conv"}
    assert all(r["rel_err"] < 1e-5 for r in rows)
