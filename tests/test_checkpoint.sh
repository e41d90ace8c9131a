#!/usr/bin/env bash
# test_checkpoint.sh — `hoclab train` stopped by a signal and continued with --resume:
# exit code and message, the checkpoint file, and a final result equal to an
# uninterrupted run's in every dataset and attribute (wall time, creation time and
# command line aside); corrupt, missing and mismatched checkpoints and bad
# --checkpoint-every values give exit 2 and a message.
#
# usage: tests/test_checkpoint.sh PATH/TO/hoclab
# Prints one line per check and ends with "checkpoint: N passed, M failed"; exits
# non-zero if any check failed. Needs h5dump (package hdf5-tools).
set -u

TEST_NAME=checkpoint
source "$(dirname "$0")/lib.sh"
if ! command -v h5dump > /dev/null; then
    echo "FAIL  checkpoint tests need h5dump (package hdf5-tools; scripts/setup.sh installs it)"
    exit 1
fi

check() { if eval "$2"; then pass "$1"; else fail "$1" "${3:-}"; fi; }

# Two runs (nlgp and gp) of 1.6 million online steps each: about a second each.
TRAIN=(train --L 40 --time 40000 --K 4 --test-samples 2000 --n-meas 30 --snapshots 5
       --no-plot --quiet --threads 2)

# Everything in a result file except the attributes that say when and how it was made,
# with every number to 17 digits (float and double exactly).
dump() {
    h5dump -m '%.17g' "$1" | awk '
        skip && $0 == ind "}" { skip = 0; next }
        skip { next }
        /ATTRIBUTE "(wall_seconds|created|command_line)"/ {
            match($0, /^ */); ind = substr($0, 1, RLENGTH); skip = 1; next }
        { sub(/^HDF5 ".*" \{$/, "HDF5 {"); print }'
}

# ---- the uninterrupted run ----
"$HOCLAB" "${TRAIN[@]}" --output "$DIR/ref.h5" 2> "$ERR"
check "uninterrupted run" '[ $? -eq 0 ] && [ -f "$DIR/ref.h5" ]'
check "no checkpoint left by a finished run" '[ ! -e "$DIR/ref.ckpt.h5" ]'

# ---- stopped by SIGTERM once its first checkpoint is written ----
"$HOCLAB" "${TRAIN[@]}" --output "$DIR/run.h5" --checkpoint-every 0.1 2> "$ERR" &
pid=$!
for _ in $(seq 200); do
    [ -f "$DIR/run.ckpt.h5" ] && break
    sleep 0.02
done
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: exit 143" '[ $rc -eq 143 ]' "exit $rc"
check "SIGTERM: says where it stopped and how to go on" \
    'grep -q "interrupted by SIGTERM at nlgp step [0-9]* of 1600000" "$ERR" &&
     grep -q "continue with: .* --resume" "$ERR"'
check "SIGTERM: no result file, a checkpoint" '[ ! -e "$DIR/run.h5" ] && [ -f "$DIR/run.ckpt.h5" ]'
check "the checkpoint is marked as one, with partial runs" \
    'h5dump -a /checkpoint "$DIR/run.ckpt.h5" | grep -q "(0): 1" &&
     h5dump -a /nlgp/checkpoint_state "$DIR/run.ckpt.h5" | grep -q "\"partial\""'
cp "$DIR/run.ckpt.h5" "$DIR/saved.ckpt.h5"

# ---- resumed, stopped again by SIGINT (a job-control job: SIGINT not ignored) ----
touch "$DIR/marker"
sleep 0.01
set -m
"$HOCLAB" "${TRAIN[@]}" --output "$DIR/run.h5" --checkpoint-every 0.1 --resume 2> "$ERR" &
pid=$!
set +m
for _ in $(seq 200); do
    [ "$DIR/run.ckpt.h5" -nt "$DIR/marker" ] && break
    sleep 0.02
done
kill -INT "$pid"
wait "$pid"
rc=$?
check "SIGINT after a resume: exit 130" '[ $rc -eq 130 ]' "exit $rc"
check "SIGINT: says so, suggests --resume once" \
    'grep -q "interrupted by SIGINT" "$ERR" && [ $(grep -o -- "--resume" "$ERR" | wc -l) -eq 1 ]'

"$HOCLAB" "${TRAIN[@]}" --output "$DIR/run.h5" --resume 2> "$ERR"
rc=$?
check "--resume finishes" '[ $rc -eq 0 ] && [ -f "$DIR/run.h5" ]' "exit $rc"
check "--resume removes the checkpoint" '[ ! -e "$DIR/run.ckpt.h5" ]'
dump "$DIR/ref.h5" > "$DIR/ref.txt"
dump "$DIR/run.h5" > "$DIR/run.txt"
check "the dump sees the datasets" \
    '[ $(grep -c "DATASET" "$DIR/ref.txt") -ge 20 ] && grep -q "test_error" "$DIR/ref.txt"'
check "resumed result = uninterrupted result, bit for bit" \
    'cmp -s "$DIR/ref.txt" "$DIR/run.txt"' \
    "$(diff "$DIR/ref.txt" "$DIR/run.txt" | head -n 3 | tr '\n' ' ')"

# ---- checkpoints that cannot be used: exit 2 and a message ----
resume_with() { # CHECKPOINT [more flags]: resume from it, exit code in rc
    local ck=$1
    shift
    "$HOCLAB" "${TRAIN[@]}" --output "$DIR/bad.h5" --checkpoint "$ck" --resume "$@" 2> "$ERR"
    rc=$?
}
resume_with "$DIR/missing.ckpt.h5"
check "missing checkpoint: exit 2, message" \
    '[ $rc -eq 2 ] && grep -q "cannot read checkpoint.*missing.ckpt.h5" "$ERR"' "exit $rc"
size=$(stat -c %s "$DIR/saved.ckpt.h5")
head -c $((size / 2)) "$DIR/saved.ckpt.h5" > "$DIR/cut.ckpt.h5"
resume_with "$DIR/cut.ckpt.h5"
check "truncated checkpoint: exit 2, message" \
    '[ $rc -eq 2 ] && grep -q "checkpoint .*cut.ckpt.h5.*truncated or corrupt" "$ERR"' "exit $rc"
head -c 3000 /dev/urandom > "$DIR/junk.ckpt.h5"
resume_with "$DIR/junk.ckpt.h5"
check "garbage checkpoint: exit 2, message" \
    '[ $rc -eq 2 ] && grep -q "not an HDF5 file" "$ERR"' "exit $rc"
resume_with "$DIR/ref.h5"
check "a result file is no checkpoint: exit 2" \
    '[ $rc -eq 2 ] && grep -q "not a hoclab training checkpoint" "$ERR"' "exit $rc"
resume_with "$DIR/saved.ckpt.h5" --lr 0.1
check "checkpoint of another configuration: exit 2, names the field" \
    '[ $rc -eq 2 ] && grep -q "another configuration: lr = 0.05 there, 0.1 here" "$ERR"' "exit $rc"
check "refused resumes write no result" '[ ! -e "$DIR/bad.h5" ]'

# ---- flags ----
for bad in -1 1e7 abc; do
    "$HOCLAB" train --checkpoint-every "$bad" --output "$DIR/x.h5" 2> "$ERR"
    rc=$?
    check "--checkpoint-every $bad: exit 2" '[ $rc -eq 2 ] && grep -q "checkpoint-every" "$ERR"' \
        "exit $rc"
done

finish
