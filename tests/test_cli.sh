#!/usr/bin/env bash
# test_cli.sh — the hoclab command line: help, bad input (exit 2 and one line on
# stderr naming the flag and what it accepts), tiny runs of every command, and the
# files they leave behind.
#
# usage: tests/test_cli.sh PATH/TO/hoclab
# Prints one line per check and ends with "cli: N passed, M failed"; exits non-zero
# if any check failed. Checks that need h5dump (package hdf5-tools) are skipped with
# a note when it is not installed.
set -u

TEST_NAME=cli
source "$(dirname "$0")/lib.sh"

stderr_lines() { wc -l <"$ERR" | tr -d ' '; }

# ---- top level --------------------------------------------------------------------------

run --help
expect "hoclab --help: exit 0" "exit $rc" test "$rc" -eq 0
if grep -qw train "$OUT" && grep -qw sample "$OUT" && grep -qw plot "$OUT"; then
    pass "hoclab --help lists train, sample, plot"
else
    fail "hoclab --help lists train, sample, plot"
fi

run nosuch
expect "hoclab nosuch: exit 2" "exit $rc" test "$rc" -eq 2
expect "hoclab nosuch: names the command" "no 'nosuch' on stderr" grep -q "nosuch" "$ERR"

run
expect "hoclab (no command): exit 2" "exit $rc" test "$rc" -eq 2

# ---- train --help -----------------------------------------------------------------------

TRAIN_FLAGS="inputs xis xi-unit gain gain-convention dim L kernel-p seed plus minus K model activation
bias bias-value lr bs time std0w std0v test-samples n-meas snapshots threads output no-plot
quiet checkpoint checkpoint-every resume"
run train --help
expect "train --help: exit 0" "exit $rc" test "$rc" -eq 0
missing=""
for f in $TRAIN_FLAGS; do
    # The flag's line, then the line under it with its default and accepted values.
    if ! awk -v flag="--$f" '
            found { ok = ($0 ~ /default/ && $0 ~ /accepted/); exit }
            $1 == flag { found = 1 }
            END { exit !(found && ok) }' "$OUT"; then
        missing="$missing --$f"
    fi
done
expect "train --help lists every flag with its default and accepted values" \
    "missing or incomplete:$missing" test -z "$missing"
n_listed=$(grep -cE '^  --[a-zA-Z]' "$OUT")
n_expected=$(echo "$TRAIN_FLAGS" | wc -w)
expect "train --help lists no undocumented extra flag ($n_expected flags)" \
    "listed $n_listed" test "$n_listed" -eq "$n_expected"

for cmd in sample plot; do
    run "$cmd" --help
    if [ "$rc" -eq 0 ] && grep -q "default" "$OUT" && grep -q "accepted" "$OUT"; then
        pass "$cmd --help: exit 0 with defaults and accepted values"
    else
        fail "$cmd --help: exit 0 with defaults and accepted values" "exit $rc"
    fi
done

# ---- bad input: exit 2, one line on stderr naming the flag and what it accepts -----------

# Tiny settings first, so that a bad flag that were wrongly accepted would still give
# a fast run (and an output file, which the check notices).
TINY=(--L 20 --K 2 --time 1 --test-samples 50 --no-plot --quiet --output "$DIR/bad.h5")

# bad_input DESCRIPTION EXTENDED-REGEX(S) -- ARGS...: every regex must match stderr.
bad_input() {
    local what=$1
    shift
    local patterns=()
    while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
    shift
    rm -f "$DIR/bad.h5"
    run train "${TINY[@]}" "$@"
    local why=""
    [ "$rc" -eq 2 ] || why="exit $rc"
    [ "$(stderr_lines)" -eq 1 ] || why="$why; $(stderr_lines) lines on stderr"
    for p in "${patterns[@]}"; do
        grep -qE -- "$p" "$ERR" || why="$why; stderr lacks /$p/"
    done
    [ ! -e "$DIR/bad.h5" ] || why="$why; an output file was written"
    if [ -z "$why" ]; then pass "train $what: exit 2, one line"; else fail "train $what" "${why#; }"; fi
}

bad_input "--xis 0,6"          -- "--xis" "accepted.*> 0"    -- --xis 0,6
bad_input "--xis -1,2"         -- "--xis" "accepted.*> 0"    -- --xis -1,2
bad_input "--xis 2"            -- "--xis" "accepted.*2"      -- --xis 2
bad_input "--L 1"              -- "--L" "accepted.*2\.\."    -- --L 1
bad_input "--K 0"              -- "--K" "accepted.*1\.\."    -- --K 0
bad_input "--gain -1"          -- "--gain" "accepted.*0"     -- --gain -1
bad_input "--lr 0"             -- "--lr" "accepted.*excl|accepted.*> ?0" -- --lr 0
bad_input "--lr abc"           -- "--lr" "accepted"          -- --lr abc
bad_input "--model foo"        -- "--model" "accepted.*2layer" -- --model foo
bad_input "--activation foo"   -- "--activation" "accepted.*erf" -- --activation foo
bad_input "--bias foo"         -- "--bias" "accepted.*none"  -- --bias foo
bad_input "--inputs foo"       -- "--inputs" "accepted.*nlgp" -- --inputs foo
bad_input "--dim 3"            -- "--dim" "accepted.*1\.\.2" -- --dim 3
bad_input "--bs 0"             -- "--bs" "accepted.*1\.\."   -- --bs 0
bad_input "--time 0"           -- "--time" "accepted"        -- --time 0
bad_input "--nosuchflag"       -- "--nosuchflag" "--help"    -- --nosuchflag
bad_input "--output /proc/nope/x.h5" -- "--output" "/proc/nope" -- --output /proc/nope/x.h5
bad_input "--output into a missing folder" -- "$DIR/no_such_folder" \
    -- --output "$DIR/no_such_folder/x.h5"
bad_input "--L (missing value)" -- "--L" "accepted"          -- --L
bad_input "--xi-unit frac --xis 0.1,2" -- "--xis" "\(0, 1\]" -- --xi-unit frac --xis 0.1,2
bad_input "--xis 2,6, (trailing comma)" -- "--xis" "trailing comma" -- --xis 2,6,
bad_input "--seed ' -1'"       -- "--seed" "accepted.*0\.\." -- --seed " -1"
bad_input "--output is a folder" -- "is a folder" -- --output "$DIR"

# ---- a tiny successful run ----------------------------------------------------------------

run train --L 20 --K 3 --time 20 --test-samples 200 --output "$DIR/r.h5"
expect "train (tiny): exit 0" "exit $rc" test "$rc" -eq 0
missing=""
for f in r.h5 r_rfs_nlgp.png r_rfs_gp.png r_ipr.png r_error.png \
    r_rfs_nlgp.svg r_rfs_gp.svg r_ipr.svg r_error.svg; do
    [ -s "$DIR/$f" ] || missing="$missing $f"
done
expect "train (tiny): writes the .h5 and every figure (png, svg)" "missing:$missing" \
    test -z "$missing"
expect "train (tiny): prints a Summary" "no 'Summary' on stdout" grep -q "Summary" "$OUT"
expect "train (tiny): stderr empty (no progress line when not a terminal)" \
    "stderr not empty" test ! -s "$ERR"
leftovers=$(find "$DIR" -name '*.tmp.*' | wc -l)
expect "train (tiny): no temporary file left" "$leftovers left" test "$leftovers" -eq 0

run train --L 20 --K 3 --time 20 --test-samples 200 --quiet --no-plot --output "$DIR/q.h5"
if [ "$rc" -eq 0 ] && [ ! -s "$OUT" ] && [ ! -s "$ERR" ] && [ -s "$DIR/q.h5" ] &&
    [ ! -e "$DIR/q_ipr.png" ]; then
    pass "train --quiet --no-plot: exit 0, silent, .h5 but no figures"
else
    fail "train --quiet --no-plot: exit 0, silent, .h5 but no figures" "exit $rc"
fi

run train --inputs gp --dim 2 --L 8 --K 4 --time 5 --test-samples 100 --output "$DIR/r2.h5"
if [ "$rc" -eq 0 ] && [ -s "$DIR/r2.h5" ] && [ -s "$DIR/r2_rfs_gp.png" ] &&
    [ ! -e "$DIR/r2_rfs_nlgp.png" ]; then
    pass "train --inputs gp --dim 2: exit 0, gp figures only"
else
    fail "train --inputs gp --dim 2: exit 0, gp figures only" "exit $rc"
fi

# ---- reproducibility (needs h5dump to read the datasets) ----------------------------------

# The datasets of a file as h5dump prints them, without the line naming the file.
dump() {
    local f=$1
    shift
    local args=()
    for d in "$@"; do args+=(-d "$d"); done
    h5dump "${args[@]}" "$f" 2>&1 | tail -n +2
}
SETS=(/nlgp/ipr /gp/ipr /nlgp/final/W /gp/final/W)
SMALL=(--L 20 --K 3 --time 20 --test-samples 200 --quiet --no-plot --seed 7)
if command -v h5dump >/dev/null 2>&1; then
    run train "${SMALL[@]}" --output "$DIR/seed_a.h5"
    rc_a=$rc
    run train "${SMALL[@]}" --output "$DIR/seed_b.h5"
    if [ "$rc_a" -eq 0 ] && [ "$rc" -eq 0 ] &&
        [ -n "$(dump "$DIR/seed_a.h5" "${SETS[@]}")" ] &&
        [ "$(dump "$DIR/seed_a.h5" "${SETS[@]}")" = "$(dump "$DIR/seed_b.h5" "${SETS[@]}")" ]; then
        pass "same seed twice: identical ipr and final weights"
    else
        fail "same seed twice: identical ipr and final weights" "exit $rc_a/$rc or datasets differ"
    fi
    run train "${SMALL[@]}" --threads 1 --output "$DIR/thr1.h5"
    rc_a=$rc
    run train "${SMALL[@]}" --threads 2 --output "$DIR/thr2.h5"
    if [ "$rc_a" -eq 0 ] && [ "$rc" -eq 0 ] &&
        [ "$(dump "$DIR/thr1.h5" "${SETS[@]}")" = "$(dump "$DIR/thr2.h5" "${SETS[@]}")" ]; then
        pass "--threads 1 and --threads 2: identical ipr and final weights"
    else
        fail "--threads 1 and --threads 2: identical ipr and final weights" \
            "exit $rc_a/$rc or datasets differ"
    fi
    run train "${SMALL[@]}" --seed 8 --output "$DIR/seed_c.h5"
    if [ "$rc" -eq 0 ] &&
        [ "$(dump "$DIR/seed_a.h5" "${SETS[@]}")" != "$(dump "$DIR/seed_c.h5" "${SETS[@]}")" ]; then
        pass "another seed: different datasets"
    else
        fail "another seed: different datasets" "exit $rc or datasets equal"
    fi
else
    skip "same seed twice: identical datasets" "h5dump not installed (package hdf5-tools)"
    skip "--threads 1 and --threads 2: identical datasets" "h5dump not installed"
fi

# ---- a diverging run --------------------------------------------------------------------

run train --lr 1e4 --activation linear --L 20 --K 3 --time 20 --test-samples 200 \
    --output "$DIR/d.h5"
expect "train (diverging): exit 1" "exit $rc" test "$rc" -eq 1
expect "train (diverging): says it diverged on stderr" "no 'diverged' on stderr" \
    grep -qi "diverged" "$ERR"
expect "train (diverging): the .h5 still exists" "no d.h5" test -s "$DIR/d.h5"
run plot "$DIR/d.h5" --prefix "$DIR/dre"
if [ "$rc" -eq 0 ] && [ -s "$DIR/dre_ipr.png" ]; then
    pass "plot of a diverged result: exit 0"
else
    fail "plot of a diverged result: exit 0" "exit $rc"
fi

# ---- plot --------------------------------------------------------------------------------

run plot "$DIR/r.h5" --prefix "$DIR/re"
if [ "$rc" -eq 0 ] && [ -s "$DIR/re_ipr.png" ] && [ -s "$DIR/re_error.png" ] &&
    [ -s "$DIR/re_rfs_nlgp.png" ]; then
    pass "plot r.h5 --prefix re: exit 0, re_ipr.png written"
else
    fail "plot r.h5 --prefix re: exit 0, re_ipr.png written" "exit $rc"
fi

run plot "$DIR/missing.h5"
if [ "$rc" -eq 2 ] && grep -q "missing.h5" "$ERR"; then
    pass "plot of a missing file: exit 2, names the file"
else
    fail "plot of a missing file: exit 2, names the file" "exit $rc"
fi

head -c 4096 /dev/urandom >"$DIR/garbage.h5"
run plot "$DIR/garbage.h5"
if [ "$rc" -eq 2 ] && [ -s "$ERR" ]; then
    pass "plot of a garbage file: exit 2 with a message"
else
    fail "plot of a garbage file: exit 2 with a message" "exit $rc"
fi

head -c 1000 "$DIR/r.h5" >"$DIR/truncated.h5" 2>/dev/null
run plot "$DIR/truncated.h5"
if [ "$rc" -eq 2 ] && [ -s "$ERR" ]; then
    pass "plot of a truncated result: exit 2 with a message"
else
    fail "plot of a truncated result: exit 2 with a message" "exit $rc"
fi

run plot
expect "plot without a file: exit 2" "exit $rc" test "$rc" -eq 2

# ---- sample ------------------------------------------------------------------------------

run sample --n 3 --dim 2 --L 12 --output "$DIR/s.h5"
if [ "$rc" -eq 0 ] && [ -s "$DIR/s.h5" ] && [ -s "$DIR/s.png" ]; then
    pass "sample --n 3 --dim 2 --L 12: exit 0, s.h5 and s.png"
else
    fail "sample --n 3 --dim 2 --L 12: exit 0, s.h5 and s.png" "exit $rc"
fi

run sample --n 2 --xis 3,3 --output "$DIR/s33.h5" --no-plot
if [ "$rc" -eq 0 ] && [ -s "$DIR/s33.h5" ]; then
    pass "sample with equal xis: exit 0 (class in the group name)"
else
    fail "sample with equal xis: exit 0 (class in the group name)" "exit $rc"
fi

run plot "$DIR/s.h5"
if [ "$rc" -eq 2 ] && grep -q "not a hoclab training result" "$ERR"; then
    pass "plot of a samples file: exit 2, not a training result"
else
    fail "plot of a samples file: exit 2, not a training result" "exit $rc"
fi

run sample --n 0 --output "$DIR/s0.h5"
if [ "$rc" -eq 2 ] && [ "$(stderr_lines)" -eq 1 ] && grep -q -- "--n" "$ERR" &&
    grep -q "accepted" "$ERR" && [ ! -e "$DIR/s0.h5" ]; then
    pass "sample --n 0: exit 2, one line naming --n"
else
    fail "sample --n 0: exit 2, one line naming --n" "exit $rc"
fi

# ---- stats -------------------------------------------------------------------------------

run stats --help
if [ "$rc" -eq 0 ] && grep -q -- "--model" "$OUT" && grep -q "default" "$OUT" &&
    grep -q "accepted" "$OUT"; then
    pass "stats --help: exit 0 with defaults and accepted values"
else
    fail "stats --help: exit 0 with defaults and accepted values" "exit $rc"
fi

run stats --list
if [ "$rc" -eq 0 ] && grep -q "^nlgp" "$OUT" && grep -q "^gp" "$OUT" && grep -qw "gain" "$OUT" &&
    grep -q "erf|sign|tanh|poly" "$OUT"; then
    pass "stats --list: every model with its parameters, defaults and choices"
else
    fail "stats --list: every model with its parameters, defaults and choices" "exit $rc"
fi

run stats --model nlgp --params L=32,gain=10 --n 2000 --output "$DIR/st.h5"
missing=""
for f in st.h5 st.png st.svg; do [ -s "$DIR/$f" ] || missing="$missing $f"; done
if [ "$rc" -eq 0 ] && [ -z "$missing" ] && grep -q "excess kurtosis" "$OUT" &&
    grep -q "non-Gaussian" "$OUT" && [ ! -s "$ERR" ]; then
    pass "stats --model nlgp: exit 0, st.h5/.png/.svg, kurtosis and 'non-Gaussian'"
else
    fail "stats --model nlgp: exit 0, st.h5/.png/.svg, kurtosis and 'non-Gaussian'" \
        "exit $rc; missing:$missing"
fi
leftovers=$(find "$DIR" -name 'st*.tmp*' | wc -l)
expect "stats: no temporary file left" "$leftovers left" test "$leftovers" -eq 0

run stats --model gp --params L=32 --n 2000 --no-plot --output "$DIR/stg.h5"
if [ "$rc" -eq 0 ] && [ -s "$DIR/stg.h5" ] && [ ! -e "$DIR/stg.png" ] &&
    grep -q "Gaussian within noise" "$OUT"; then
    pass "stats --model gp --no-plot: exit 0, 'Gaussian within noise', no figure"
else
    fail "stats --model gp --no-plot: exit 0, 'Gaussian within noise', no figure" "exit $rc"
fi

run stats --model spiked --params d=20 --n 500 --origin 3 --no-plot --output "$DIR/sts.h5"
if [ "$rc" -eq 0 ] && grep -q "not translation invariant" "$OUT"; then
    pass "stats --model spiked: exit 0, the full-covariance path"
else
    fail "stats --model spiked: exit 0, the full-covariance path" "exit $rc"
fi
if command -v h5dump >/dev/null 2>&1; then
    if h5dump -H "$DIR/st.h5" 2>/dev/null | grep -q 'DATASET "spectrum"' &&
        h5dump -H "$DIR/st.h5" 2>/dev/null | grep -q 'DATASET "slice"' &&
        h5dump -H "$DIR/sts.h5" 2>/dev/null | grep -q 'DATASET "matrix"'; then
        pass "stats files: /covariance/spectrum, /kappa4/slice, /covariance/matrix"
    else
        fail "stats files: /covariance/spectrum, /kappa4/slice, /covariance/matrix"
    fi
else
    skip "stats files: datasets" "h5dump not installed (package hdf5-tools)"
fi

# cmd_bad CMD DESCRIPTION REGEX -- ARGS...: `hoclab CMD --no-plot --output F ARGS` exits
# with 2 and one line on stderr matching REGEX, and writes no file.
cmd_bad() {
    local cmd=$1 what=$2 pattern=$3
    shift 4
    rm -f "$DIR/cmdbad.h5"
    run "$cmd" --no-plot --output "$DIR/cmdbad.h5" "$@"
    local why=""
    [ "$rc" -eq 2 ] || why="exit $rc"
    [ "$(stderr_lines)" -eq 1 ] || why="$why; $(stderr_lines) lines on stderr"
    grep -qE -- "$pattern" "$ERR" || why="$why; stderr lacks /$pattern/"
    [ ! -e "$DIR/cmdbad.h5" ] || why="$why; an output file was written"
    if [ -z "$why" ]; then pass "$cmd $what: exit 2, one line"; else fail "$cmd $what" "${why#; }"; fi
}
stats_bad() { cmd_bad stats "$@"; }

stats_bad "--n 1"                "--n.*accepted.*2\.\."       -- --model nlgp --n 1
stats_bad "--n abc"              "--n.*accepted"              -- --model nlgp --n abc
stats_bad "--model nosuch"       "nosuch.*nlgp.*gp"           -- --model nosuch
stats_bad "(no --model)"         "--model.*required.*nlgp"    --
stats_bad "--params gain=-1"     "--params.*gain.*0\.\."      -- --model nlgp --params gain=-1
stats_bad "--params nokey=1"     "--params.*nokey.*accepted"  -- --model nlgp --params nokey=1
stats_bad "--origin 20 (D = 20)" "--origin.*accepted.*0\.\.19" -- --model spiked --params d=20 --origin 20
stats_bad "--seed -1"            "--seed.*accepted"           -- --model nlgp --seed -1
stats_bad "--n 100000000 --params L=1000000" "--n.*accepted" -- --model nlgp --params L=1000000 --n 100000000

# ---- data models by name: sample --model, train --plus/--minus -----------------------------

run sample --model ising --params "dim=2,L=12,T=2.5" --n 4 --output "$DIR/ising.h5"
expect "sample --model ising: exit 0" "exit $rc" test "$rc" -eq 0
expect "sample --model ising: writes the .h5 and the montage" "missing" \
    test -s "$DIR/ising.h5" -a -s "$DIR/ising.png" -a -s "$DIR/ising.svg"
expect "sample --model ising: model and clone" "$(cat "$OUT")" grep -q "Wrote 2 x 4" "$OUT"
run sample --model nlgp --params "nonlin=sign,L=30" --no-clone --no-plot --n 3 \
    --output "$DIR/sign.h5"
expect "sample --model nlgp --no-clone: one set" "$(cat "$OUT")" grep -q "Wrote 1 x 3" "$OUT"

sample_bad() { cmd_bad sample "$@"; }
sample_bad "--model nosuch"      "nosuch.*ising"                -- --model nosuch
sample_bad "--params T=-1"       "--params.*T = -1.*accepted"   -- --model ising --params T=-1
sample_bad "--params nokey=1"    "--params.*nokey.*accepted"    -- --model spiked --params nokey=1
sample_bad "--params nonlin=foo" "--params.*nonlin.*erf"        -- --model nlgp --params nonlin=foo

run train --plus "nlgp:L=20,xi=2" --minus "gp:L=20,xi=2" --K 2 --time 5 --test-samples 100 \
    --no-plot --quiet --output "$DIR/task.h5"
expect "train --plus/--minus: exit 0" "exit $rc" test "$rc" -eq 0
expect "train --plus/--minus: writes the result" "no file" test -s "$DIR/task.h5"
run plot "$DIR/task.h5"
expect "plot of a model task: exit 0 and the RF figure" "exit $rc" \
    test "$rc" -eq 0 -a -s "$DIR/task_rfs_task.png"
bad_input "--plus without --minus" -- "--minus" -- --plus "nlgp:L=20"
bad_input "--plus spiked:d=21 vs --minus nlgp:L=20" -- "differ in dimension" \
    -- --plus "spiked:d=21" --minus "nlgp:L=20"
bad_input "--plus nosuch"      -- "nosuch" -- --plus nosuch --minus gp

# ---- theory -------------------------------------------------------------------------------

run theory --help
expect "theory --help: exit 0, lists the computations" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q cumulant "$OUT" && grep -q perceptron "$OUT"'
run theory nosuch
expect "theory nosuch: exit 2, names it" "exit $rc" \
    eval 'test "$rc" -eq 2 && grep -q "nosuch" "$ERR"'

# theory_bad SUB WHAT PATTERN -- ARGS: exit 2, one line naming the problem, no file.
theory_bad() {
    local sub=$1 what=$2 pattern=$3
    shift 4
    rm -f "$DIR/thbad.h5"
    run theory "$sub" --no-plot --output "$DIR/thbad.h5" "$@"
    local why=""
    [ "$rc" -eq 2 ] || why="exit $rc"
    [ "$(stderr_lines)" -eq 1 ] || why="$why; $(stderr_lines) lines on stderr"
    grep -qE -- "$pattern" "$ERR" || why="$why; stderr lacks /$pattern/"
    [ ! -e "$DIR/thbad.h5" ] || why="$why; an output file was written"
    if [ -z "$why" ]; then pass "theory $sub $what: exit 2, one line"; else fail "theory $sub $what" "${why#; }"; fi
}
theory_bad cumulant "--samples 1" "--samples 1.*accepted"        -- --samples 1
theory_bad cumulant "tanh (no exact cumulant)" "no exact cumulant.*samples" \
    -- --model "nlgp:L=16,nonlin=tanh"
theory_bad cumulant "open boundary" "boundary = open.*periodic" \
    -- --model "nlgp:L=16,boundary=open" --samples 100
theory_bad cumulant "a torus" "dim = 2.*dim = 1"                 -- --model "gp:dim=2,L=8" --samples 10
theory_bad cumulant "spiked (no ring)" "no ring geometry"        -- --model "spiked:d=16" --samples 10
theory_bad cumulant "--model nosuch" "nosuch.*nlgp"              -- --model nosuch
theory_bad cp "--rank 0" "--rank.*accepted.*1\.\."               -- --rank 0
theory_bad cp "--rank 20 (L = 16)" "--rank 20.*1\.\.L = 16"      -- --model "nlgp:L=16" --rank 20
theory_bad cp "--sweep gain" "--sweep.*KEY=V1"                   -- --sweep gain
theory_bad cp "--sweep nokey=1" "no parameter 'nokey'"           -- --sweep nokey=1
theory_bad cp "--sweep gain=-1" "gain.*accepted"                 -- --model "nlgp:L=16" --sweep gain=-1
theory_bad cp "--rf of another ring" "--rf.*not a ring of L = 16" \
    -- --model "nlgp:L=16" --rank 1 --restarts 1 --rf "$DIR/task.h5"
theory_bad cp "--rf missing file" "--rf"                          -- --rf "$DIR/nosuch.h5"
run theory cp --model "nlgp:L=20,xi=2" --rank 1 --restarts 1 --rf "$DIR/task.h5" --no-plot \
    --output "$DIR/cprf.h5"
expect "theory cp --rf: exit 0, reports the trained RFs" "exit $rc" \
    eval 'test "$rc" -eq 0 -a -s "$DIR/cprf.h5" && grep -q "trained RFs" "$OUT"'
theory_bad neuron "--time 0" "--time.*accepted"                  -- --time 0
theory_bad neuron "classes on different rings" "same ring" \
    -- --plus "nlgp:L=16" --minus "nlgp:L=20"
theory_bad neuron "--t-min above --time" "--t-min"               -- --t-min 2 --time 1

run theory cumulant --model "nlgp:L=16,xi=2,gain=3" --output "$DIR/cum.h5"
expect "theory cumulant (exact): exit 0, file and figure, kurtosis printed" "exit $rc" \
    eval 'test "$rc" -eq 0 -a -s "$DIR/cum.h5" -a -s "$DIR/cum.png" && grep -q "excess kurtosis" "$OUT"'
run theory cumulant --model "ising:L=16,T=3" --samples 400 --no-plot --output "$DIR/cumi.h5"
expect "theory cumulant (sampled ising): exit 0" "exit $rc" \
    eval 'test "$rc" -eq 0 -a -s "$DIR/cumi.h5" && grep -q sampled "$OUT"'
run theory cp --model "nlgp:L=16,xi=2" --rank 2 --sweep gain=1,10 --restarts 2 --output "$DIR/cp.h5"
expect "theory cp --sweep: exit 0, factors, IPR and width figures" "exit $rc" \
    test "$rc" -eq 0 -a -s "$DIR/cp.h5" -a -s "$DIR/cp_factors.png" -a -s "$DIR/cp_ipr.svg" -a -s "$DIR/cp_width.png"
run theory neuron --plus "nlgp:L=16,xi=1,gain=3" --minus "nlgp:L=16,xi=3,gain=3" --rank 2 \
    --time 0.5 --n-times 6 --output "$DIR/neu.h5"
expect "theory neuron: exit 0, file and three figures" "exit $rc" \
    test "$rc" -eq 0 -a -s "$DIR/neu.h5" -a -s "$DIR/neu_weights.png" -a -s "$DIR/neu_ipr.png" -a -s "$DIR/neu_overlap.png"
theory_bad ode "--activation relu" "relu.*accepted"               -- --activation relu
theory_bad ode "--points 3" "--points.*even"                     -- --points 3
theory_bad ode "--K 41" "--K.*accepted.*1\.\.40"                 -- --K 41
theory_bad perceptron "--t-min above --time" "--t-min"           -- --t-min 5 --time 1
theory_bad perceptron "--plus nosuch" "nosuch"                   -- --plus nosuch
theory_bad perceptron "test classes of another D" "test classes have D" \
    -- --plus "nlgp:L=10" --minus "gp:L=10" --test-plus "nlgp:L=12" --test-minus "gp:L=12"
run theory ode --L 20 --K 2 --time 20 --n-meas 5 --test-samples 500 --points 256 \
    --output "$DIR/ode.h5"
expect "theory ode: exit 0, file, error and IPR figures, GET line" "exit $rc" \
    eval 'test "$rc" -eq 0 -a -s "$DIR/ode.h5" -a -s "$DIR/ode_error.png" -a -s "$DIR/ode_ipr.png" && grep -q "^  GET" "$OUT"'
run theory perceptron --plus "elliptical:L=10,nu=6" --minus "gp:L=10,xi=3" --n 400 \
    --test-samples 200 --eta 0.01 --time 2 --t-min 0.01 --n-times 5 --output "$DIR/perc.h5"
expect "theory perceptron: exit 0, file, overlap and error figures" "exit $rc" \
    test "$rc" -eq 0 -a -s "$DIR/perc.h5" -a -s "$DIR/perc_overlap.png" -a -s "$DIR/perc_error.svg"
if command -v h5dump >/dev/null; then
    if h5dump -H "$DIR/cum.h5" | grep -q '"k4"' && h5dump -H "$DIR/cp.h5" | grep -q '"u"' &&
       h5dump -H "$DIR/neu.h5" | grep -q '"overlap"' &&
       h5dump -H "$DIR/ode.h5" | grep -q '"Q_plus"' && h5dump -H "$DIR/perc.h5" | grep -q '"w3"' &&
       h5dump -a method "$DIR/cum.h5" | grep -q exact; then
        pass "theory files: /k4, /u, /nlgp/overlap and the method attribute"
    else
        fail "theory files: /k4, /u, /nlgp/overlap and the method attribute"
    fi
else
    skip "theory files: datasets" "h5dump not installed (package hdf5-tools)"
fi
leftovers=$(find "$DIR" -name '*.tmp.*' | wc -l)
expect "theory: no temporary file left" "$leftovers left" test "$leftovers" -eq 0

# ---- reproduce -----------------------------------------------------------------------------

run reproduce --help
expect "reproduce --help: exit 0, lists the experiments" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q gain-sweep "$OUT" && grep -q kurtosis-sweep "$OUT"'
run reproduce nosuch
expect "reproduce nosuch: exit 2, names it" "exit $rc" eval 'test "$rc" -eq 2 && grep -q nosuch "$ERR"'
run reproduce gain-sweep --seeds 0
expect "reproduce --seeds 0: exit 2, one line naming the flag" "exit $rc" \
    eval 'test "$rc" -eq 2 && test "$(stderr_lines)" -eq 1 && grep -q -- "--seeds.*accepted" "$ERR"'
for e in gain-sweep kurtosis-sweep; do
    run reproduce $e --L 16 --K 2 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/$e"
    expect "reproduce $e (tiny): exit 0, verdict, summary file" "exit $rc" \
        eval 'test "$rc" -eq 0 && grep -q "^Verdict" "$OUT" && ls "$DIR/rep/$e/"*.h5 >/dev/null'
    run reproduce $e --L 16 --K 2 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/$e"
    expect "reproduce $e again: every point read back" "exit $rc" \
        eval 'test "$rc" -eq 0 && grep -q "read back" "$OUT"'
done
run reproduce gain-sweep --L 16 --K 2 --time 6 --seeds 1 --quiet --output-dir "$DIR/rep/gain-sweep"
expect "reproduce into a folder of another experiment: exit 2, names the file" "exit $rc" \
    eval 'test "$rc" -eq 2 && grep -q "another experiment" "$ERR"'

# ---- reproduce spiked-cumulant (tiny: d = 4, 6, 8, a few SGD steps) ------------------------
run reproduce spiked-cumulant --L 8 --K 4 --time 0.05 --seeds 1 --quiet --output-dir "$DIR/rep/spiked"
expect "reproduce spiked-cumulant (tiny): exit 0, verdict, summary file" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "^Verdict" "$OUT" && test -f "$DIR/rep/spiked/spiked_cumulant.h5"'
run reproduce spiked-cumulant --L 8 --K 4 --time 0.05 --seeds 1 --quiet --output-dir "$DIR/rep/spiked"
expect "reproduce spiked-cumulant again: every point read back" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "read back" "$OUT"'

# simplicity-bias (tiny): needs the Fashion-MNIST package
if [ -r /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz ] ||
   [ -r /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte ]; then
    run reproduce simplicity-bias --K 2 --time 0.3 --seeds 1 --quiet --output-dir "$DIR/rep/simp"
    expect "reproduce simplicity-bias (tiny): exit 0, verdict, summary file, figure" "exit $rc" \
        eval 'test "$rc" -eq 0 && grep -q "^Verdict" "$OUT" && test -f "$DIR/rep/simp/simplicity_bias.h5" && test -s "$DIR/rep/simp/simplicity_bias_net.png"'
    expect "reproduce simplicity-bias (tiny): the ten-class verdict and figure" "exit $rc" \
        eval 'grep -q "^Verdict (10 classes)" "$OUT" && test -s "$DIR/rep/simp/simplicity_bias_ten.png" && test -f "$DIR/rep/simp/points/simp10_net_on_gm_s1.h5"'
    run reproduce simplicity-bias --K 2 --time 0.3 --seeds 1 --quiet --output-dir "$DIR/rep/simp"
    expect "reproduce simplicity-bias again: every point read back" "exit $rc" \
        eval 'test "$rc" -eq 0 && grep -q "8 of 8 points read back" "$OUT"'
    run reproduce simplicity-bias --K 3 --time 0.3 --seeds 1 --quiet --output-dir "$DIR/rep/simp"
    expect "reproduce simplicity-bias, other K in the same folder: exit 2, names the file" \
        "exit $rc" eval 'test "$rc" -eq 2 && grep -q "other settings" "$ERR"'
else
    skip "reproduce simplicity-bias" "Fashion-MNIST not installed (dataset-fashion-mnist)"
fi

# ---- reproduce conv (tiny: L = 16, two units, t = 5) ---------------------------------------
run reproduce conv --L 16 --K 2 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/conv"
expect "reproduce conv (tiny): exit 0, verdict, summary file" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "^Verdict" "$OUT" && test -f "$DIR/rep/conv/conv.h5" && test -f "$DIR/rep/conv/conv_rf_centres.png"'
run reproduce conv --L 16 --K 2 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/conv"
expect "reproduce conv again: the runs and the CNN read back" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "CNN points read back" "$OUT"'

run reproduce conv --L 16 --K 2 --kernel 5 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/conv5"
expect "reproduce conv --kernel 5 (tiny): exit 0, verdict" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "kernel 5" "$OUT"'

# ---- reproduce conv --dim 2 (tiny: 10 x 10 torus, two units, t = 5) ----------------------
run reproduce conv --dim 2 --L 10 --K 2 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/conv2d"
expect "reproduce conv --dim 2 (tiny): exit 0, torus, verdict, summary file, figure" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "10 x 10 torus" "$OUT" && grep -q "^Verdict" "$OUT" && test -f "$DIR/rep/conv2d/conv.h5" && test -s "$DIR/rep/conv2d/conv_rf_centres.png"'
run reproduce conv --dim 2 --L 10 --K 2 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/conv2d"
expect "reproduce conv --dim 2 again: the CNN read back" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "CNN points read back" "$OUT"'

# ---- reproduce pruning (tiny: L = 16, two units, t = 5 per round) ---------------------------
run reproduce pruning --L 16 --K 2 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/prune"
expect "reproduce pruning (tiny): exit 0, verdict, summary file, figure" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "^Verdict" "$OUT" && test -f "$DIR/rep/prune/pruning.h5" && test -s "$DIR/rep/prune/pruning_cavity_distance.png"'
run reproduce pruning --L 16 --K 2 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/prune"
expect "reproduce pruning again: every point read back" "exit $rc" \
    eval 'test "$rc" -eq 0 && grep -q "2 of 2 points read back" "$OUT"'
run reproduce pruning --L 16 --K 3 --time 5 --seeds 1 --quiet --output-dir "$DIR/rep/prune"
expect "reproduce pruning, other K in the same folder: exit 2, names the field" "exit $rc" \
    eval 'test "$rc" -eq 2 && grep -q "was made with K" "$ERR"'

finish
