# lib.sh — what the shell tests share: sourced by test_cli.sh, test_sweep.sh and
# test_checkpoint.sh after `set -u`, with the test's name as $TEST_NAME and its
# arguments as "$@" (PATH/TO/hoclab). Sets HOCLAB, a temporary folder DIR (removed on
# exit), OUT and ERR; run/expect/pass/fail/skip count the checks, and `finish` prints
# "NAME: N passed, M failed" and returns non-zero if a check failed.

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/hoclab" >&2
    exit 2
fi
HOCLAB=$1
export OPENBLAS_NUM_THREADS=1

DIR=$(mktemp -d "${TMPDIR:-/tmp}/hoclab_${TEST_NAME}.XXXXXX") || exit 2
trap 'rm -rf "$DIR"' EXIT

passed=0
failed=0
OUT=$DIR/stdout
ERR=$DIR/stderr

pass() { passed=$((passed + 1)); echo "ok    $1"; }
fail() {
    failed=$((failed + 1))
    echo "FAIL  $1${2:+ ($2)}"
    if [ -s "$ERR" ]; then sed 's/^/        stderr: /' "$ERR" | head -n 8; fi
}
skip() { echo "skip  $1 ($2)"; }

# Run hoclab with the given arguments; sets rc, with stdout in $OUT, stderr in $ERR.
run() {
    "$HOCLAB" "$@" >"$OUT" 2>"$ERR" </dev/null
    rc=$?
}

# expect NAME WHY COMMAND...: pass if COMMAND succeeds, else fail with WHY.
expect() {
    local name=$1 why=$2
    shift 2
    if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}

finish() {
    echo "$TEST_NAME: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
