#!/usr/bin/env bash
# perceptron_fmnist.sh — the perceptron view of the simplicity bias on real images:
# Fashion-MNIST T-shirts (class 0) against shirts (class 6), globally standardised,
# 12,000 training images; the trained cubic-erf perceptron's overlap with the mean
# direction w(0), the Fisher / linear solution w(1), the fourth-cumulant correction
# w(3) and the Gaussian clone's prediction, against time.
# Output: results/examples/perceptron_fmnist.h5, perceptron_fmnist_overlap/_error.{png,svg}.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bash "$root/scripts/setup.sh" >/dev/null
out=${1:-$root/results/examples}
mkdir -p "$out"
time "$root/build/hoclab" theory perceptron --output "$out/perceptron_fmnist.h5"
