#!/usr/bin/env bash
# The GPU checks, as one call on a lent GPU machine (device time is scarce: ~15 minutes a task, a
# machine start included).  Run from the repository root:
#
#     bash scripts/device_check.sh            # logs and JSON under $OUT (default /tmp/tg-device)
#
# What it does, in order, each step under its own time limit so the whole stays under ~6 minutes:
#   1. versions (GPU, driver, Python packages); installs tensorgan (editable, no dependencies: the
#      machine's own Numba / CuPy are used) and, where the machine's NumPy or numba-cuda is outside
#      what pyproject pins, the pinned wheels from .whl/ when they were carried;
#   2. scripts/time_first_use.py on the fresh machine (cold Numba/CuPy caches: what a user's first
#      step, sample and checkpoint cost), then the whole test suite on the GPU machine (the CUDA
#      kernel tests run on the device);
#   3. the kernel benchmark on the GPU (CUDA events, PyTorch/cuDNN with TF32 off), and the CUDA
#      kernel variants the glue chooses between (benchmarks.cuda_variants);
#   4. the train-step benchmark on the GPU;
#   5. a one-epoch MNIST training run on the GPU (data from .devdata/mnist when carried), then
#      `tensorgan eval` of its checkpoint, and a cProfile of the step's host time;
#   6. every kernel under compute-sanitizer's memcheck and racecheck (scripts/sanitize_kernels.py).
# Logs are packed into $OUT/logs.tgz (the device tool returns at most 8 files); summary.txt is
# printed last.
#
# Before the call, on the development machine (both folders git-ignored, named in the call's carry):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
#       --platform manylinux_2_24_x86_64 -d .whl numpy==2.4.6 numba-cuda==0.30.4
#   mkdir -p .devdata && cp -r ../shared/datasets/mnist .devdata/
#   git rev-parse --short HEAD > .devdata/COMMIT   # the copy there has no .git: the benchmarks'
#                                                  # "code: commit" line reads it (uncommitted work shows as such only here)
set -u
OUT=${OUT:-/tmp/tg-device}
[ -f .devdata/COMMIT ] && export TENSORGAN_COMMIT=$(cat .devdata/COMMIT)
LOGS=/tmp/tg-logs
mkdir -p "$OUT" "$LOGS"
export PYTHONUNBUFFERED=1
PY=python3
SUMMARY=$LOGS/summary.txt
: > "$SUMMARY"

step() {  # step NAME SECONDS CMD...: run CMD with a time limit, log to $LOGS/NAME.log
    local name=$1 limit=$2 t0 rc
    shift 2
    t0=$(date +%s)
    timeout -k 5 "$limit" "$@" > "$LOGS/$name.log" 2>&1
    rc=$?
    echo "[$name] rc=$rc in $(( $(date +%s) - t0 )) s (limit $limit)" | tee -a "$SUMMARY"
    pack      # after every step: a call cut off at its limit still returns the logs so far
    return $rc
}

pack() { tar -C "$LOGS" -czf "$OUT/logs.tgz" . ; cp "$SUMMARY" "$OUT/summary.txt"; }
trap pack EXIT

# 1. versions and install -------------------------------------------------------------------------
{
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
    $PY -c "import sys, numpy, numba, cupy; print(sys.version); print('numpy', numpy.__version__, 'numba', numba.__version__, 'cupy', cupy.__version__)"
    $PY -m pip list 2>/dev/null | grep -i -E "^(numba|numba-cuda|cupy|cuda-|torch |hypothesis|pytest|tqdm|pillow|threadpoolctl)"
    nproc
} > "$LOGS/env.log" 2>&1
head -3 "$LOGS/env.log" | tee -a "$SUMMARY"
# numba-cuda 0.30.4 fails to import on NumPy 2.5 (np.row_stack is gone): pyproject pins numpy < 2.5,
# so a machine image with a newer NumPy gets the carried pinned wheel, as `pip install` would.
if ! $PY -c "import numpy, sys; sys.exit(tuple(map(int, numpy.__version__.split('.')[:2])) >= (2, 5))" \
        && ls .whl/numpy-*.whl > /dev/null 2>&1; then
    step install_numpy 60 $PY -m pip install -q --no-index --no-deps --upgrade .whl/numpy-*.whl
    $PY -c "import numpy; print('numpy now', numpy.__version__)" | tee -a "$SUMMARY"
fi
want=$(grep -o 'numba-cuda==[0-9.]*' pyproject.toml | head -1 | cut -d= -f3)
have=$($PY -m pip show numba-cuda 2>/dev/null | awk '/^Version/ {print $2}')
echo "numba-cuda: machine has '${have}', pyproject pins '${want}'" | tee -a "$SUMMARY"
if [ "$have" != "$want" ] && ls .whl/numba_cuda-"$want"-*.whl > /dev/null 2>&1; then
    step install_numba_cuda 60 $PY -m pip install -q --no-index --no-deps --upgrade .whl/numba_cuda-"$want"-*.whl
fi
if ! step install 120 $PY -m pip install -q --no-index --no-deps --no-build-isolation -e .; then
    # No setuptools >= 77 there: import from the checkout instead (kernels/ is tensorgan.kernels).
    ln -sfn ../kernels tensorgan/kernels && export PYTHONPATH=$PWD
    echo "install failed; importing from the checkout" | tee -a "$SUMMARY"
fi
step cuda_status 60 $PY -c "import tensorgan as tg; print(tg.cuda_status()); x = tg.randn(4, 4, device='cuda'); print(type(x.data), (x * 2).sum().item())"
tail -2 "$LOGS/cuda_status.log" | tee -a "$SUMMARY"

# 2. first-use costs while the caches are cold (before the tests fill them), then the test suite
data=.devdata/mnist
[ -d "$data" ] || data=""
step first_use 60 $PY scripts/time_first_use.py --device cuda ${data:+--data-dir "$data"}
grep -E "first|whole" "$LOGS/first_use.log" >> "$SUMMARY"

# The test suite with a real GPU: the CUDA kernel tests (tests/kernels/test_cuda.py) and every
# test that names device="cuda" run on the device instead of the simulator; the default device stays
# the CPU (tests/conftest.py).  First, so that a kernel broken on hardware shows before any timing.
step pytest 110 $PY -m pytest -q -p no:cacheprovider -n 14 --dist loadfile -rfE --timeout 100 tests
tail -12 "$LOGS/pytest.log" >> "$SUMMARY"

# 3-4. benchmarks, alone on the machine -----------------------------------------------------------
step bench_kernels 60 $PY -m benchmarks.kernels --gpu-only --repeats 30 --warmup 5 --json "$LOGS/kernels.json"
tail -3 "$LOGS/bench_kernels.log" >> "$SUMMARY"
step cuda_variants 50 $PY -m benchmarks.cuda_variants --json "$LOGS/cuda_variants.json"
cat "$LOGS/cuda_variants.log" >> "$SUMMARY"
step bench_train_step 50 $PY -m benchmarks.train_step --steps 40 --warmup 5 --no-memory --json "$LOGS/train_step.json"
head -12 "$LOGS/bench_train_step.log" | tail -8 >> "$SUMMARY"

# 5. a training run alone (its seconds per step mean something), its quality, the host profile ------
step train 60 $PY -m tensorgan train --device cuda --epochs 1 ${data:+--data-dir "$data"} \
    --out /tmp/tg-run --no-progress --sample-every 400 --checkpoint-every 400
tail -2 "$LOGS/train.log" >> "$SUMMARY"
TENSORGAN_DATA=$data step eval 30 $PY -m tensorgan eval --device cuda --checkpoint /tmp/tg-run/checkpoint.npz
tail -6 "$LOGS/eval.log" >> "$SUMMARY"
cp "$(ls -t /tmp/tg-run/samples/*.png 2>/dev/null | head -1)" "$LOGS/" 2>/dev/null
step profile 30 $PY scripts/profile_step.py --device cuda --steps 30 --top 40
head -1 "$LOGS/profile.log" >> "$SUMMARY"

# 6. compute-sanitizer: out-of-bounds accesses and shared-memory races, which the simulator cannot see
CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
if [ -n "$CS" ]; then
    for tool in memcheck racecheck; do
        step "$tool" 60 "$CS" --tool "$tool" --error-exitcode 3 $PY scripts/sanitize_kernels.py
        tail -4 "$LOGS/$tool.log" >> "$SUMMARY"
    done
else
    echo "compute-sanitizer not found" >> "$SUMMARY"
fi
echo "=================== summary" ; cat "$SUMMARY"
