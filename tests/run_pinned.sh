#!/usr/bin/env bash
# Run pytest twice: pinned to one core with one thread, then with two threads, so a test
# whose outcome depends on the CPU count or on thread scheduling (float sums in another
# order) shows up. Extra arguments go to pytest:
#
#   tests/run_pinned.sh tests/test_retrieval.py -q      # both runs
#   PINNED_RUNS=one tests/run_pinned.sh -m "not slow"    # only the one-core run ("two": only two threads)
#
# Python: $PYTHON when set, else .venv/bin/python when present, else python3.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${PYTHON:-}" ]]; then
  python="$PYTHON"
elif [[ -x .venv/bin/python ]]; then
  python=.venv/bin/python
else
  python=python3
fi
runs="${PINNED_RUNS:-one two}"
failed=()

for run in $runs; do
  case "$run" in
    one)
      echo "== one core (taskset -c 0), one thread: $python -m pytest $*" >&2
      OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        taskset -c 0 "$python" -m pytest "$@" || failed+=("one core, one thread")
      ;;
    two)
      echo "== two threads: $python -m pytest $*" >&2
      OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
        "$python" -m pytest "$@" || failed+=("two threads")
      ;;
    *)
      echo "unknown run '$run' in PINNED_RUNS: use one, two or both ('one two')" >&2
      exit 2
      ;;
  esac
done

if ((${#failed[@]})); then
  echo "FAILED: $(IFS=,; echo "${failed[*]}")" >&2
  exit 1
fi
echo "passed: every run ($runs)" >&2
