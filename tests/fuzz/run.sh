#!/bin/sh
# run.sh — build the libFuzzer targets with clang and fuzz each for a fixed time.
#
#   tests/fuzz/run.sh                  # both targets, 60 s each
#   FUZZ_SECONDS=300 tests/fuzz/run.sh experiment
#
# Targets: experiment (experiment files), cli_args (command-line flags). Each starts from
# its seed corpus tests/fuzz/corpus/TARGET/ plus the regression inputs
# tests/fuzz/regressions/TARGET/; inputs it finds that add coverage go to
# BUILD/corpus/TARGET/ (not committed). A crash, a leak, undefined behaviour or a broken
# promise stops it: the input is kept as BUILD/crash-TARGET/crash-* and the script exits
# 1. After fixing the bug, copy that input into tests/fuzz/regressions/TARGET/ (ctest's
# fuzz_replay replays it in every build). Environment: FUZZ_SECONDS (60), BUILD
# (build-fuzz-clang), FUZZ_JOBS (build jobs, 2), FUZZ_MAX_LEN (4096).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build-fuzz-clang}
seconds=${FUZZ_SECONDS:-60}
max_len=${FUZZ_MAX_LEN:-4096}
targets=${*:-experiment cli_args}

mkdir -p "$build"
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHOCLAB_FUZZ=ON \
  -DHOCLAB_MPI=OFF > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 2; }
for t in $targets; do
  cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target "fuzz_$t" || exit 2
done

status=0
for t in $targets; do
  work="$build/corpus/$t"
  crashes="$build/crash-$t"
  mkdir -p "$work" "$crashes"
  echo "fuzzing $t for $seconds s (corpus $work)"
  # cli_args prints flag errors and --help texts by design: -close_fd_mask=3 hides them
  # (libFuzzer's and the sanitizers' reports still show).
  mask=0
  [ "$t" = cli_args ] && mask=3
  if ! OPENBLAS_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
      UBSAN_OPTIONS=print_stacktrace=1 "$build/tests/fuzz/fuzz_$t" \
      -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=4096 \
      -close_fd_mask=$mask -print_final_stats=1 -artifact_prefix="$crashes/" \
      "$work" "$here/corpus/$t" "$here/regressions/$t" 2>"$build/fuzz-$t.log"; then
    tail -n 60 "$build/fuzz-$t.log"
    echo "fuzz_$t found a problem: input kept in $crashes/ (log $build/fuzz-$t.log)"
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec|^Done" \
      "$build/fuzz-$t.log" || true
  fi
done
exit $status
