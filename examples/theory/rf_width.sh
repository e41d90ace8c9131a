#!/usr/bin/env bash
# rf_width.sh — "the CP factors' width tracks the RF width from training": trains the
# default network on a ring of L = 64 (xi = 2, 6, gain 10, t = 10^4), then decomposes
# the exact fourth cumulant of each class (xi = 2 and xi = 6) and compares the leading
# factors' widths with the trained receptive fields' widths (hl_cp_ring_width: the
# circular standard deviation of w^2, in sites).
# Output: results/examples/rf_width_train.h5 (+ figures), rf_width_cp.h5 (+ figures).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bash "$root/scripts/setup.sh" >/dev/null
out=${1:-$root/results/examples}
mkdir -p "$out"
time "$root/build/hoclab" train --L 64 --time 10000 --quiet --output "$out/rf_width_train.h5"
time "$root/build/hoclab" theory cp --model "nlgp:L=64,gain=10" --rank 2 --restarts 2 \
    --sweep xi=2,6 --rf "$out/rf_width_train.h5" --output "$out/rf_width_cp.h5"
