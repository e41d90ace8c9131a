#!/usr/bin/env bash
# get_vs_sim.sh — the paper's theory figure "GET test error against simulation": the
# default experiment's network (L = 100 ring, xi = (2, 6), gain 10, K = 8, erf,
# trainable biases, lr 0.05) trained on the NLGP task and on its Gaussian clone, and
# the Gaussian-equivalent ODEs integrated from the same initial network. GET follows
# the clone's test error, and the NLGP's until the receptive fields localise; its
# mean weights never localise.
# Output: results/examples/get_vs_sim.h5, get_vs_sim_error/_ipr.{png,svg}.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bash "$root/scripts/setup.sh" >/dev/null
out=${1:-$root/results/examples}
mkdir -p "$out"
time "$root/build/hoclab" theory ode --time 3000 --output "$out/get_vs_sim.h5"
