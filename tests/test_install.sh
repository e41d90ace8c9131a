#!/usr/bin/env bash
# test_install.sh — `cmake --install` of the build tree ctest runs in, into a temporary
# prefix: the library and its SONAME links, the headers, the CLI, hoclab.pc and the man
# page are there and usable, and the C example builds with pkg-config against the
# installed copy alone and runs.
#   test_install.sh BINARY_DIR SOURCE_DIR [EXTRA_CFLAGS]
# EXTRA_CFLAGS: the flags the library was built with that a program linking it needs
# too (the sanitizer build's -fsanitize=...: its runtime must come first in the program).
set -euo pipefail
bin=$1 src=$2 extra=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_install: FAIL: $*" >&2; exit 1; }

prefix=$tmp/prefix
cmake --install "$bin" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "cmake --install failed"; }

# pkg-config first: it says where the library went (lib, or lib/<multiarch> for /usr).
export PKG_CONFIG_PATH=$(find "$prefix" -name hoclab.pc -printf '%h\n' | head -1)
[ -n "$PKG_CONFIG_PATH" ] || fail "no hoclab.pc installed"
[ "$(pkg-config --variable=prefix hoclab)" = "$prefix" ] ||
    fail "hoclab.pc has prefix '$(pkg-config --variable=prefix hoclab)', not '$prefix'"
version=$(sed -n 's/^project(hoclab VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ "$(pkg-config --modversion hoclab)" = "$version" ] || fail "hoclab.pc version is not $version"
libdir=$(pkg-config --variable=libdir hoclab)
includedir=$(pkg-config --variable=includedir hoclab)

# The library: real file, SONAME link, development link, and the SONAME it declares.
[ -f "$libdir/libhoclab.so.$version" ] && [ ! -L "$libdir/libhoclab.so.$version" ] ||
    fail "no $libdir/libhoclab.so.$version"
soname=$(objdump -p "$libdir/libhoclab.so.$version" | awk '/SONAME/ {print $2}')
[ -L "$libdir/$soname" ] || fail "no SONAME link $libdir/$soname"
[ -L "$libdir/libhoclab.so" ] || fail "no development link libhoclab.so"

# Every public header, and nothing else, compiles on its own from the install.
for h in "$src"/include/hoclab/*.h; do
    name=$(basename "$h")
    cmp -s "$h" "$includedir/hoclab/$name" || fail "header $name not installed (or differs)"
    echo "#include <hoclab/$name>" | cc -std=c17 -fsyntax-only $(pkg-config --cflags hoclab) \
        -x c - || fail "installed hoclab/$name does not compile with pkg-config's flags"
done
[ "$(ls "$includedir/hoclab" | wc -l)" = "$(ls "$src"/include/hoclab/*.h | wc -l)" ] ||
    fail "extra files in $includedir/hoclab"

# The CLI runs from the prefix (its run path finds the installed library).
"$prefix/bin/hoclab" --version | grep -qx "hoclab $version" || fail "installed hoclab --version"
loaded=$(ldd "$prefix/bin/hoclab" | awk '/libhoclab/ {print $3}')
[ -n "$loaded" ] && [ "$(readlink -f "$loaded")" = "$(readlink -f "$libdir/libhoclab.so")" ] ||
    fail "installed hoclab loads '$loaded', not $libdir's libhoclab"

# The man page: installed, formats without a warning, documents every sub-command.
page=$prefix/share/man/man1/hoclab.1
[ -f "$page" ] || fail "no man page $page"
if command -v groff >/dev/null; then
    warnings=$(groff -man -ww -z "$page" 2>&1) || fail "groff cannot format the man page"
    [ -z "$warnings" ] || fail "man page warnings: $warnings"
fi
text=$(MANWIDTH=100 man -l "$page" 2>/dev/null | col -b) || fail "man -l cannot read the page"
for cmd in train sample plot stats theory reproduce sweep; do
    grep -q "hoclab $cmd" <<<"$text" || fail "the man page does not document 'hoclab $cmd'"
done
grep -q -- "--checkpoint-every" <<<"$text" && grep -q -- "--resume" <<<"$text" ||
    fail "the man page lacks train's --checkpoint-every / --resume"

# The Python module, when the source tree has one.
if [ -d "$src/python/hoclab" ]; then
    [ -f "$prefix/lib/python3/dist-packages/hoclab/__init__.py" ] ||
        fail "python/hoclab not installed under lib/python3/dist-packages"
fi

# The C example, copied out of the source tree, built with pkg-config alone.
cp -r "$src/examples/c" "$tmp/example"
make -s -C "$tmp/example" CFLAGS="-O2 -Wall -Wextra -Werror $extra" >"$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log" >&2; fail "the C example does not build against the install"; }
out=$(LD_LIBRARY_PATH=$libdir OPENBLAS_NUM_THREADS=1 "$tmp/example/sample_and_train" 3) ||
    fail "the C example failed: $out"
echo "$out"
# Its numbers: the NLGP's sample kurtosis near the exact one, two runs that learnt.
awk '/^NLGP samples/ { k = $(NF - 2); e = $NF; sub(/\)/, "", e); ok = (k - e < 0.05 && e - k < 0.05) }
     END { exit !ok }' <<<"$out" || fail "sample kurtosis far from the exact value"
[ "$(grep -cE '^(nlgp|gp) .*test error 0\.[0-3]' <<<"$out")" = 2 ] ||
    fail "the example's networks did not learn (test error >= 0.4)"
echo "test_install: ok"
