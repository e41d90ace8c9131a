#!/usr/bin/env bash
# test_corrupt.sh — damaged input files give a clear error, never a crash: every reader
# (training results via `hoclab plot`, mixture files, IDX image sets, PNG photographs)
# meets truncated files, random bytes, missing datasets and attributes, wrong shapes and
# wrong types. Each case must exit 1 or 2, name the file and the problem on stderr, and
# leave no sanitizer report (this test runs in the sanitizer build too).
#   test_corrupt.sh HOCLAB_BINARY
set -uo pipefail
hoclab=$1
py=/usr/bin/python3 # Debian's, with h5py and NumPy (crafts the damaged HDF5 files)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
failures=0 cases=0
export OPENBLAS_NUM_THREADS=1

# expect NAME FILE WORD COMMAND...: COMMAND fails with exit 1 or 2, and its stderr names
# FILE (its base name) and contains WORD (the problem, an extended regex).
expect() {
    local name=$1 file=$2 word=$3
    shift 3
    cases=$((cases + 1))
    "$@" >out.txt 2>err.txt
    local rc=$? why=""
    if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then why="exit $rc, not 1 or 2"
    elif grep -qE "Sanitizer|runtime error" err.txt; then why="sanitizer report"
    elif ! grep -qF "$(basename "$file")" err.txt; then why="message does not name $file"
    elif ! grep -qiE "$word" err.txt; then why="message does not say /$word/"
    fi
    if [ -n "$why" ]; then
        echo "FAIL  $name: $why"
        sed 's/^/        stderr: /' err.txt | head -20
        failures=$((failures + 1))
    else
        echo "ok    $name: $(head -c 200 err.txt | head -1)"
    fi
}

# ---- training results: hoclab plot FILE ------------------------------------------------
"$hoclab" train --L 16 --time 20 --K 2 --test-samples 100 --n-meas 4 --snapshots 2 \
    --quiet --no-plot --output good.h5 || { echo "FAIL cannot write a training result"; exit 1; }
"$hoclab" plot good.h5 >/dev/null 2>err.txt || { echo "FAIL the intact file does not plot"; cat err.txt; exit 1; }
size=$(stat -c %s good.h5)
head -c $((size / 2)) good.h5 >truncated.h5
head -c 600 good.h5 >header_only.h5
head -c 20000 /dev/urandom >random.h5
: >empty.h5
expect "plot: half of a result" truncated.h5 "truncated|corrupt|not an HDF5" "$hoclab" plot truncated.h5
expect "plot: the first 600 bytes" header_only.h5 "truncated|corrupt|not an HDF5" "$hoclab" plot header_only.h5
expect "plot: random bytes" random.h5 "not an HDF5" "$hoclab" plot random.h5
expect "plot: empty file" empty.h5 "not an HDF5" "$hoclab" plot empty.h5
expect "plot: missing file" nosuch.h5 "cannot read|No such file" "$hoclab" plot nosuch.h5
mkdir folder.h5
expect "plot: a folder" folder.h5 "is a folder" "$hoclab" plot folder.h5

if ! "$py" -c 'import h5py, numpy' 2>/dev/null; then
    echo "FAIL  the HDF5 cases below need /usr/bin/python3 with h5py and numpy (scripts/setup.sh installs python3-h5py, python3-numpy)"
    exit 1
fi
# damage GOOD OUT EDIT: copy a file and change it with h5py (f: the open file). The
# edits are collected and made by one Python process (apply_damage): each start costs.
edits=()
damage() { edits+=("$1" "$2" "$3"); }
apply_damage() {
    "$py" - "${edits[@]}" <<'PY' || { echo "FAIL cannot write the damaged files"; exit 1; }
import shutil, sys, h5py, numpy as np
a = sys.argv[1:]
for good, out, edit in zip(a[0::3], a[1::3], a[2::3]):
    shutil.copy(good, out)
    with h5py.File(out, "r+") as f:
        exec(edit)
PY
    edits=()
}
damage good.h5 no_W.h5 'del f["nlgp/final/W"]'
damage good.h5 big_W.h5 'del f["nlgp/final/W"]; f["nlgp/final/W"] = np.ones((2, 4096), "f4")'
damage good.h5 small_ipr.h5 'del f["gp/ipr"]; f["gp/ipr"] = np.ones((4, 1))'
damage good.h5 long_t.h5 'del f["gp/t"]; f["gp/t"] = np.arange(1e6)'
damage good.h5 text_error.h5 'del f["nlgp/test_error"]; f["nlgp/test_error"] = np.array([b"abc"] * 4)'
damage good.h5 compound.h5 'd = f["nlgp/final/v"][...]; del f["nlgp/final/v"]; f["nlgp/final/v"] = np.zeros(2, dtype=[("a", "f8"), ("b", "i4")])'
damage good.h5 array_K.h5 'f["nlgp"].attrs["K"] = np.arange(1000)'
damage good.h5 array_kind.h5 'f.attrs["kind"] = np.array([b"train"] * 50)'
damage good.h5 vlen_kind.h5 'f.attrs["kind"] = "train"'
damage good.h5 long_status.h5 'f["gp"].attrs["status"] = np.bytes_(b"x" * 5000)'
damage good.h5 huge_K.h5 'f["nlgp"].attrs["K"] = np.int64(2**40 + 2)'
damage good.h5 huge_L.h5 'f["nlgp"].attrs["L"] = np.int64(-(2**33))'
damage good.h5 text_gain.h5 'f["nlgp"].attrs["gain"] = np.bytes_(b"ten")'
damage good.h5 no_kind.h5 'del f.attrs["kind"]'
damage good.h5 no_groups.h5 'del f["nlgp"]; del f["gp"]'
damage good.h5 nan_t.h5 'f["gp/t"][...] = np.nan; f["gp/test_error"][...] = np.inf'
apply_damage
expect "plot: final/W missing" no_W.h5 "final/W" "$hoclab" plot no_W.h5
expect "plot: final/W larger than K x D" big_W.h5 "final/W" "$hoclab" plot big_W.h5
expect "plot: ipr of the wrong shape" small_ipr.h5 "ipr" "$hoclab" plot small_ipr.h5
expect "plot: t longer than planned" long_t.h5 "measurement times| t[ ,']" "$hoclab" plot long_t.h5
expect "plot: test_error holds strings" text_error.h5 "test_error" "$hoclab" plot text_error.h5
expect "plot: final/v is a compound type" compound.h5 "final/v" "$hoclab" plot compound.h5
expect "plot: attribute K is an array" array_K.h5 "'K'" "$hoclab" plot array_K.h5
expect "plot: attribute kind is an array" array_kind.h5 "kind" "$hoclab" plot array_kind.h5
expect "plot: attribute kind is a variable-length string" vlen_kind.h5 "kind" "$hoclab" plot vlen_kind.h5
expect "plot: status longer than its buffer" long_status.h5 "status" "$hoclab" plot long_status.h5
expect "plot: K beyond int" huge_K.h5 "'K'" "$hoclab" plot huge_K.h5
expect "plot: L negative" huge_L.h5 "'L'" "$hoclab" plot huge_L.h5
expect "plot: gain is text" text_gain.h5 "gain" "$hoclab" plot text_gain.h5
expect "plot: no kind attribute" no_kind.h5 "not a hoclab training result" "$hoclab" plot no_kind.h5
expect "plot: no run groups" no_groups.h5 "no run groups" "$hoclab" plot no_groups.h5
# Non-finite numbers are not a format error: the figures are drawn (or refused) cleanly.
cases=$((cases + 1))
"$hoclab" plot nan_t.h5 >out.txt 2>err.txt
rc=$?
if [ $rc -gt 2 ] || grep -qE "Sanitizer|runtime error" err.txt; then
    echo "FAIL  plot: NaN times and infinite errors: exit $rc"; cat err.txt; failures=$((failures + 1))
else
    echo "ok    plot: NaN times and infinite errors: exit $rc"
fi

# ---- mixture files (the dataset clones): hoclab sample --model mixture -----------------
"$py" - <<'PY'
import h5py, numpy as np
K, D = 2, 4
with h5py.File("mix.h5", "w") as f:
    for k, v in {"kind": b"mixture", "hoclab_version": b"0.1.0", "created": b"now"}.items():
        f.attrs[k] = np.bytes_(v)
    f.attrs["D"], f.attrs["n_classes"], f.attrs["isotropic"] = np.int64(D), np.int64(K), np.int64(0)
    f["counts"] = np.array([10, 12], "i8")
    f["means"] = np.zeros((K, D))
    f["variances"] = np.ones(K)
    f["jitter"] = np.zeros(K)
    f["covariances"] = np.stack([np.eye(D)] * K)
    f["cholesky"] = np.stack([np.eye(D, dtype="f4")] * K)
PY
mixture() { "$hoclab" sample --model mixture --params "path=$1" --n 2 --no-clone --no-plot --output "s_$1"; }
mixture mix.h5 >/dev/null 2>err.txt || { echo "FAIL the intact mixture file does not load"; cat err.txt; exit 1; }
head -c $(($(stat -c %s mix.h5) / 2)) mix.h5 >mix_truncated.h5
damage mix.h5 mix_no_chol.h5 'del f["cholesky"]'
damage mix.h5 mix_big_means.h5 'del f["means"]; f["means"] = np.zeros((2, 4000))'
damage mix.h5 mix_big_D.h5 'f.attrs["D"] = np.int64(1 << 40)'
damage mix.h5 mix_array_D.h5 'f.attrs["D"] = np.arange(64)'
damage mix.h5 mix_text_counts.h5 'del f["counts"]; f["counts"] = np.array([b"a", b"b"])'
damage mix.h5 mix_bad_var.h5 'f["variances"][...] = np.nan'
apply_damage
expect "mixture: truncated" mix_truncated.h5 "not an HDF5|truncated|corrupt" mixture mix_truncated.h5
expect "mixture: random bytes" random.h5 "not an HDF5" mixture random.h5
expect "mixture: cholesky missing" mix_no_chol.h5 "cholesky" mixture mix_no_chol.h5
expect "mixture: means larger than K x D" mix_big_means.h5 "means" mixture mix_big_means.h5
expect "mixture: D out of range" mix_big_D.h5 "out of range" mixture mix_big_D.h5
expect "mixture: D is an array" mix_array_D.h5 "missing or out of range" mixture mix_array_D.h5
expect "mixture: counts are strings" mix_text_counts.h5 "counts" mixture mix_text_counts.h5
expect "mixture: NaN variances" mix_bad_var.h5 "variance" mixture mix_bad_var.h5

# ---- IDX image sets (Fashion-MNIST's format): hoclab sample --model fmnist -------------
# idx DIR N_IMAGES N_LABELS [EXTRA_BYTES] [GZIP]: a train split of 4x4 images.
idx() {
    mkdir -p "$1"
    "$py" - "$@" <<'PY'
import sys, gzip, struct
d, n, nl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
extra = int(sys.argv[4]) if len(sys.argv) > 4 else 0
gz = len(sys.argv) > 5
img = struct.pack(">IIII", 0x803, n, 4, 4) + bytes(range(16)) * n + b"\0" * extra
lab = struct.pack(">II", 0x801, nl) + bytes(i % 3 for i in range(nl))
for name, data in (("train-images-idx3-ubyte", img), ("train-labels-idx1-ubyte", lab)):
    if gz:
        open(f"{d}/{name}.gz", "wb").write(gzip.compress(data))
    else:
        open(f"{d}/{name}", "wb").write(data)
PY
}
fmnist() { "$hoclab" sample --model fmnist --params "path=$1" --n 2 --no-clone --no-plot --output "s_$1.h5"; }
idx idx_ok 6 6
fmnist idx_ok >/dev/null 2>err.txt || { echo "FAIL the intact IDX set does not load"; cat err.txt; exit 1; }
idx idx_short 6 6 && head -c 60 idx_short/train-images-idx3-ubyte >x && mv x idx_short/train-images-idx3-ubyte
idx idx_long 6 6 5
idx idx_count 6 5
idx idx_gz 6 6 0 gz && head -c 30 idx_gz/train-images-idx3-ubyte.gz >x && mv x idx_gz/train-images-idx3-ubyte.gz
idx idx_huge 6 6 && printf '\0\0\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\x10' >idx_huge/train-images-idx3-ubyte
mkdir idx_random && head -c 5000 /dev/urandom >idx_random/train-images-idx3-ubyte && cp idx_ok/train-labels-idx1-ubyte idx_random/
mkdir idx_none
expect "idx: images truncated" idx_short/train-images-idx3-ubyte "truncated" fmnist idx_short
expect "idx: data after the images" idx_long/train-images-idx3-ubyte "data after" fmnist idx_long
expect "idx: 6 images, 5 labels" idx_count/train-images-idx3-ubyte "labels" fmnist idx_count
expect "idx: gzip stream cut" idx_gz/train-images-idx3-ubyte.gz "truncated|corrupt" fmnist idx_gz
expect "idx: header sizes of 2^32 - 1" idx_huge/train-images-idx3-ubyte "implausible" fmnist idx_huge
expect "idx: random bytes" idx_random/train-images-idx3-ubyte "magic|element type|dimensions" fmnist idx_random
expect "idx: files missing" idx_none "cannot open" fmnist idx_none

# ---- PNG photographs: hoclab sample --model patches ------------------------------------
"$py" - <<'PY'
import struct, zlib
def png(w, h):
    raw = b"".join(b"\0" + bytes((x * 7 + y) % 256 for x in range(w)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open("ok.png", "wb").write(png(32, 32))
open("tiny.png", "wb").write(png(3, 3))
open("cut.png", "wb").write(png(64, 64)[:120])
PY
head -c 3000 /dev/urandom >noise.png
patches() { "$hoclab" sample --model patches --params "dir=.,images=$1,size=8" --n 2 --no-clone --no-plot --output s.h5; }
patches ok.png >/dev/null 2>err.txt || { echo "FAIL the intact PNG does not load"; cat err.txt; exit 1; }
expect "png: truncated" cut.png "not a readable PNG|truncat|corrupt|error" patches cut.png
expect "png: random bytes" noise.png "not a readable PNG" patches noise.png
expect "png: smaller than a patch" tiny.png "does not fit" patches tiny.png
expect "png: missing" nosuch.png "cannot open" patches nosuch.png

echo "$((cases - failures)) of $cases cases ok"
[ $failures -eq 0 ]
