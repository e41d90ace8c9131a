#!/usr/bin/env bash
# test_sweep.sh — `hoclab sweep`: an experiment file run on threads and under
# `mpirun -n 2 --oversubscribe`, compared point for point; resume (finished points are
# never recomputed); the index; bad experiment files (exit 2, FILE:LINE and the
# accepted values).
#
# usage: tests/test_sweep.sh PATH/TO/hoclab
# Ends with "sweep: N passed, M failed"; exits non-zero if a check failed. The MPI
# checks need Open MPI's mpirun and h5diff (hdf5-tools); both are installed by
# scripts/setup.sh, and their absence is a failure, not a skip.
set -u

TEST_NAME=sweep
source "$(dirname "$0")/lib.sh"
# CI runs as root; Open MPI refuses that unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One machine, no network: keep Open MPI on shared memory and loopback.
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export OMPI_MCA_rmaps_base_oversubscribe=1
# Under the sanitizer build: Open MPI keeps its plugins loaded and LeakSanitizer takes full
# stacks, so that memory Open MPI keeps for the process's life is seen to be Open MPI's
# (tests/lsan.supp) rather than an <unknown module>'s; harmless otherwise.
export OMPI_MCA_mca_base_component_disable_dlclose=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"

cd "$DIR" || exit 2

# Every dataset of two point files equal (attributes such as the wall time and the
# command line may differ), and the same objects in both.
same_datasets() {
    local a=$1 b=$2
    h5diff "$a" "$b" >"$DIR/diff" 2>&1
    local r=$?
    [ "$r" -le 1 ] || return 1
    ! grep -q "^dataset" "$DIR/diff" || return 1
    diff <(h5ls -r "$a" | sort) <(h5ls -r "$b" | sort) >/dev/null
}

# Every point file of folder A has a twin in folder B with the same datasets.
same_points() {
    local a=$1 b=$2 f ok=0
    for f in "$a"/points/*.h5; do
        same_datasets "$f" "$b/points/$(basename "$f")" || { ok=1; echo "  differs: $f"; }
    done
    return $ok
}

# The grid: 2 gains x 2 inputs x 2 seeds = 8 points, small enough for seconds.
write_grid() {
    cat >"$1" <<EOF
# gain x inputs, two seeds
name: grid
output: $2
seeds: 2
L: 30
K: 4
time: 40
test-samples: 1000
n-meas: 5
xis: [1, 4]
inputs: [nlgp, gp]
gain: [1, 10]
EOF
}

# ---- on threads --------------------------------------------------------------------------
write_grid serial.yaml serial
run sweep serial.yaml --workers 2 --quiet
n_files=$(ls serial/points 2>/dev/null | wc -l)
expect "sweep on 2 threads: exit 0, 8 point files, an index" "exit $rc, $n_files files" \
    eval 'test "$rc" -eq 0 && test "$n_files" -eq 8 && test -s serial/index.h5'
expect "the sweep's figures: IPR and test error against the gain" "" \
    eval 'test -s serial/index_ipr.png && test -s serial/index_error.svg'
expect "point files are named by their coordinates" "$(ls serial/points | head -2)" \
    test -f "serial/points/inputs=gp,gain=10,seed=2.h5"

write_grid one.yaml one
run sweep one.yaml --workers 1 --quiet
expect "1 worker and 2 workers give the same point files, dataset for dataset" "" \
    same_points serial one

# ---- resume -----------------------------------------------------------------------------
stamp=$(stat -c %Y%N serial/points/*.h5 | md5sum)
sleep 1
run sweep serial.yaml --workers 2
expect "re-run: nothing to run, every point finished before" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "8 finished before, 0 to run" "$OUT"'
expect "re-run: no point file rewritten" "" \
    test "$stamp" = "$(stat -c %Y%N serial/points/*.h5 | md5sum)"
expect "summary: one line per grid point, seeds averaged" "$(head -5 "$OUT")" \
    eval 'grep -q "^inputs=gp,gain=10 " "$OUT" && grep -q "Index: serial/index.h5 (8 of 8" "$OUT"'

rm "serial/points/inputs=nlgp,gain=1,seed=2.h5" "serial/points/inputs=gp,gain=10,seed=1.h5"
run sweep serial.yaml --workers 2 --quiet --index-only
expect "--index-only with two points missing: the index says 2 missing" "exit $rc" \
    eval 'test "$rc" -eq 0 && h5dump -a /points/missing serial/index.h5 | grep -q "(0): 2"'
run sweep serial.yaml --workers 2
expect "resume after deleting two points: 2 to run" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "6 finished before, 2 to run" "$OUT"'
expect "the re-run points equal the first run" "" \
    same_datasets "serial/points/inputs=nlgp,gain=1,seed=2.h5" "one/points/inputs=nlgp,gain=1,seed=2.h5"

# ---- a sweep stopped by a signal goes on from its points' checkpoints -------------------
# Two points of 1.6 million online steps each (about a second each), one at a time.
cat >long.yaml <<EOF
output: long
L: 40
K: 4
time: 40000
test-samples: 1000
n-meas: 20
inputs: [nlgp, gp]
EOF
sed 's/^output: long/output: long_ref/' long.yaml >long_ref.yaml
run sweep long_ref.yaml --workers 1 --quiet
expect "uninterrupted long sweep: exit 0" "exit $rc" test "$rc" -eq 0
"$HOCLAB" sweep long.yaml --workers 1 --checkpoint-every 0.1 --quiet >"$OUT" 2>"$ERR" </dev/null &
pid=$!
for _ in $(seq 1 200); do
    [ -e "long/points/inputs=nlgp,seed=1.ckpt.h5" ] && break
    sleep 0.05
done
kill -TERM "$pid"
wait "$pid"
rc=$?
expect "SIGTERM: exit 143, the point's state kept, the command to continue" "exit $rc" \
    eval 'test "$rc" -eq 143 && grep -q "1 point saved its state" "$ERR" && test -f "long/points/inputs=nlgp,seed=1.ckpt.h5" && test ! -e "long/points/inputs=nlgp,seed=1.h5"'
stopped_at=$(h5dump -a /nlgp/stop_step "long/points/inputs=nlgp,seed=1.ckpt.h5" 2>/dev/null |
    sed -n 's/^ *(0): \([0-9]*\)$/\1/p')
expect "the checkpoint holds the point part way (step $stopped_at of 1600000)" "" \
    eval 'test -n "$stopped_at" && test "$stopped_at" -gt 0 && test "$stopped_at" -lt 1600000'
run sweep long.yaml --workers 1 --quiet
expect "the same command finishes the sweep and removes the checkpoint" "exit $rc" \
    eval 'test "$rc" -eq 0 && test ! -e "long/points/inputs=nlgp,seed=1.ckpt.h5" && test $(ls long/points | wc -l) -eq 2'
expect "stopped and continued points equal the uninterrupted ones, bit for bit" "" \
    same_points long_ref long
run sweep long.yaml --checkpoint-every -1
expect "--checkpoint-every -1: exit 2, names the flag" "exit $rc" \
    eval 'test "$rc" -eq 2 && grep -q -- "--checkpoint-every" "$ERR"'

# ---- across MPI ranks -------------------------------------------------------------------
if ! command -v mpirun >/dev/null || ! command -v h5diff >/dev/null; then
    fail "mpirun and h5diff are installed (scripts/setup.sh installs openmpi-bin, hdf5-tools)"
else
    write_grid mpi.yaml mpi
    timeout 300 mpirun -n 2 --oversubscribe "$HOCLAB" sweep mpi.yaml >"$OUT" 2>"$ERR" </dev/null
    rc=$?
    n_files=$(ls mpi/points 2>/dev/null | wc -l)
    expect "mpirun -n 2 --oversubscribe: exit 0, 8 point files" "exit $rc, $n_files files" \
        eval 'test "$rc" -eq 0 && test "$n_files" -eq 8'
    expect "MPI sweep equals the serial sweep, point for point" "" same_points serial mpi
    all_same=1
    ran=$(sed -n 's/^Points run by rank: 0: \([0-9]*\), 1: \([0-9]*\)$/\1 \2/p' "$OUT")
    expect "both ranks ran points, 8 in all (dynamic hand-out)" "ranks ran: '$ran'" \
        eval 'set -- $ran; test $# -eq 2 && test "$2" -ge 1 && test $(($1 + $2)) -eq 8'
    for d in test_error mean_ipr status seed inputs gain; do
        h5dump -d /points/$d serial/index.h5 | tail -n +3 >"$DIR/a"
        h5dump -d /points/$d mpi/index.h5 | tail -n +3 >"$DIR/b"
        cmp -s "$DIR/a" "$DIR/b" || { all_same=0; echo "  index differs: $d"; }
    done
    expect "MPI index equals the serial index" "" test "$all_same" -eq 1
    timeout 120 mpirun -n 2 --oversubscribe "$HOCLAB" sweep mpi.yaml >"$OUT" 2>"$ERR" </dev/null
    rc=$?
    expect "MPI re-run resumes: nothing to run" "exit $rc" \
        eval 'test "$rc" -eq 0 && grep -q "8 finished before, 0 to run" "$OUT"'
fi

# ---- ranges and pairs -------------------------------------------------------------------
cat >range.yaml <<EOF
output: range
L: 24
K: 2
time: 5
test-samples: 200
n-meas: 3
xis: [[1, 3], [2, 5]]
lr: {from: 0.01, to: 1, num: 3, scale: log}
EOF
run sweep range.yaml --dry-run
expect "--dry-run: 6 points listed, none run" "exit $rc" \
    eval 'test "$rc" -eq 0 && test $(grep -c "to run" "$OUT") -eq 6 && test ! -e range/index.h5'
expect "a pair axis and a log range name the points" "$(sed -n 2p "$OUT")" \
    grep -q "xis=2:5,lr=0.1,seed=1.h5" "$OUT"

# ---- bad experiment files ---------------------------------------------------------------
bad() { # NAME FILE-CONTENT PATTERN: exit 2, and stderr matches PATTERN
    local pattern=$3
    printf '%s\n' "$2" >bad.yaml
    run sweep bad.yaml --quiet
    expect "$1: exit 2, '$pattern'" "exit $rc" eval 'test "$rc" -eq 2 && grep -q -- "$pattern" "$ERR"'
}
bad "unknown key" $'L: 30\nK: 4\nlearning-rate: 0.1' "bad.yaml:3: unknown key 'learning-rate'"
bad "duplicate key" $'K: 4\ngain: 1\nK: 8' "bad.yaml:3: key 'K' is given twice (first on line 1)"
bad "out of range" $'time: 10\nK: 0' "bad.yaml:2: 'K' = 0 is out of range; accepted: 1..100000"
bad "not an integer" $'L: 30.5' "bad.yaml:1: 'L': '30.5' is not an integer"
bad "unknown choice" $'activation: [erf, sigmoid]' "bad.yaml:1: 'activation': unknown value 'sigmoid'; accepted: erf|relu|tanh|linear|cubic"
bad "not YAML" $'gain: [1, 2\nK: 4' "bad.yaml:.*not valid YAML"
bad "empty file" "" "is empty"
bad "a list, not a mapping" $'- gain\n- K' "bad.yaml:1: an experiment file is a mapping"
bad "range without num" $'gain: {from: 1, to: 3}' "needs from, to and num"
bad "seed instead of seeds" $'seed: 3' "unknown key 'seed' (use 'seeds')"
bad "invalid point" $'L: 20\nxis: [1, 4]\ngain: [1, -2]' "'gain' = -2 is out of range"
bad "a point the trainer refuses" $'L: 10\ntime: [10, 0.01]' "point time=0.01,seed=1 (axis on line 2): time = 0.01 gives no SGD step"
run sweep missing.yaml
expect "missing file: exit 1 or 2, names it" "exit $rc" \
    eval 'test "$rc" -ge 1 && grep -q "missing.yaml" "$ERR"'
run sweep
expect "no file: exit 2" "exit $rc" test "$rc" -eq 2
run sweep serial.yaml --workers -1
expect "--workers -1: exit 2, names the range" "exit $rc" \
    eval 'test "$rc" -eq 2 && grep -q -- "--workers" "$ERR"'

# A point file of another configuration in a point's place is refused, not overwritten.
write_grid clash.yaml serial
sed -i 's/^K: 4/K: 5/' clash.yaml
run sweep clash.yaml --quiet
expect "another configuration in the same folder: exit 2, names the file" "exit $rc" \
    eval 'test "$rc" -eq 2 && grep -q "holds another experiment" "$ERR"'

finish
