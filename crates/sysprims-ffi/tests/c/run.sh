#!/usr/bin/env bash
# Builds libsysprims_ffi (release), compiles tests/c/test_sysprims.c twice, against the
# staticlib and against the shared library, and runs both. Each run exits non-zero at the
# first failed check, after ending every process it started.
#
# Usage (from anywhere): crates/sysprims-ffi/tests/c/run.sh     CC=clang to pick a compiler.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
cd "$root"

cargo build --release -p sysprims-ffi --locked
lib="$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)"
cc="${CC:-cc}"
cflags=(-std=c11 -Wall -Wextra -Werror -O1 -g -pthread -I "$root/crates/sysprims-ffi/include")
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Static: the archive plus the system libraries Rust's std needs.
"$cc" "${cflags[@]}" "$here/test_sysprims.c" "$lib/libsysprims_ffi.a" \
  -lpthread -ldl -lm -o "$out/test_static"
# Shared: the .so by path, found at run time through the rpath.
"$cc" "${cflags[@]}" "$here/test_sysprims.c" "$lib/libsysprims_ffi.so" \
  -Wl,-rpath,"$lib" -o "$out/test_shared"
# The header also compiles as C++ (cbindgen's cpp_compat).
if command -v c++ >/dev/null; then
  echo '#include "sysprims.h"' | c++ -x c++ -fsyntax-only -Wall -Werror \
    -I "$root/crates/sysprims-ffi/include" -
fi

echo "static:" && "$out/test_static"
echo "shared:" && "$out/test_shared"
