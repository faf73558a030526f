#!/usr/bin/env bash
# GPU checks of symcomp's CUDA backend (issue 6), for a machine with an NVIDIA GPU.
#   1. the CUDA test files against the real device
#   2. the digits MLP trained with --device cuda (must reach >= 97% train, >= 93% test accuracy)
#   3. benchmarks (bench/gpu/bench.py): fused elementwise GB/s vs copy bandwidth, reductions,
#      the MLP step vs the CPU backend, PyTorch and JAX on the same GPU
# Logs and the markdown report go to $OUT (default bench/results/gpu). See bench/gpu/README.md.
set -x
set -o pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-bench/results/gpu}"
mkdir -p "$OUT"
exec > >(tee "$OUT/run_all.log") 2>&1
PY="${PYTHON:-python3}"
status=0

# Dependencies: the machine's numpy/scipy/numba-cuda/cupy/torch/jax; wheels carried in .whl/ (if any)
# are installed into .whl/site (no network needed), and symcomp is used from this checkout.
SITE="$PWD/.whl/site"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --target "$SITE" .whl/*.whl || status=1
fi
export PYTHONPATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi || status=1
"$PY" - <<'PYEOF' || status=1
import numpy, scipy, llvmlite, numba, numba_cuda
from numba import cuda
print("numpy", numpy.__version__, "scipy", scipy.__version__, "llvmlite", llvmlite.__version__,
      "numba", numba.__version__, "numba-cuda", numba_cuda.__version__)
assert cuda.is_available(), "no GPU visible to Numba"
cuda.detect()
PYEOF

# 1. Tests on the device (test_cuda_kernels.py runs in-process on the GPU when one is present).
timeout 420 "$PY" -m pytest -q -p no:cacheprovider -n 8 tests/test_cuda_kernels.py tests/test_cuda_ptx.py \
  --junitxml="$OUT/tests.xml" || status=1

# 2. The digits MLP on the GPU.
timeout 300 "$PY" examples/mlp_digits.py --device cuda 2>&1 | tee "$OUT/mlp_cuda.txt" || status=1
"$PY" - "$OUT/mlp_cuda.txt" <<'PYEOF' || status=1
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"train accuracy ([0-9.]+)\s+test accuracy ([0-9.]+)", text)
assert m, "no accuracy line"
train, test = float(m.group(1)), float(m.group(2))
print(f"MLP on cuda: train {train:.4f} (>= 0.97), test {test:.4f} (>= 0.93)")
assert train >= 0.97 and test >= 0.93, "accuracy below the CPU backend's"
PYEOF

# 3. Benchmarks (BLAS thread settings of the CPU rows: the machine's OpenBLAS overrides unset).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
timeout 400 "$PY" bench/gpu/bench.py 2>&1 | tee "$OUT/bench.md" || status=1

echo "run_all.sh: exit status $status"
exit $status
