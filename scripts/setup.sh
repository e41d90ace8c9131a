#!/usr/bin/env bash
# setup.sh — install the Debian packages hoclab needs (only the missing ones), then
# configure and build into ./build. Sourced by scripts/demo and scripts/test.
set -euo pipefail

HOCLAB_PACKAGES=(
  build-essential cmake pkg-config
  libopenblas-dev libfftw3-dev libhdf5-dev libgsl-dev librandom123-dev
  libplplot-dev plplot-driver-cairo libcmocka-dev
  hdf5-tools  # h5dump: the CLI tests compare result files dataset by dataset
  libpng-dev zlib1g-dev
  # Real data: Fashion-MNIST (IDX files) and the photographs of skimage's data folder
  # (read directly as PNG files; Python is not needed at run time).
  dataset-fashion-mnist python3-skimage
  # Experiment files (YAML) and sweeps across machines (Open MPI).
  libyaml-dev openmpi-bin libopenmpi-dev
  # The Python module (ctypes over libhoclab.so) and its tests.
  python3-numpy python3-h5py
  # The installation test reads the installed man page (man -l, col).
  man-db bsdextrautils
)

missing=()
for p in "${HOCLAB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "hoclab setup: missing Debian packages: ${missing[*]}" >&2
    echo "run this script as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "hoclab setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j"$(nproc)"
