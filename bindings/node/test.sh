#!/usr/bin/env bash
# The Node.js binding's tests: install the npm dependencies from package-lock.json, build the
# addon, check that the committed native.d.ts is what the Rust declarations generate, and run
# the node:test suites against real processes. The tests use a debug build (a third of a
# release build's time); with --bench the addon is built for release and the benchmark runs
# after the tests.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cd ../.. && pwd)/target}"

npm ci --no-audit --no-fund --loglevel=error

profile=()
if [ "${1:-}" = "--bench" ]; then
  profile=(--release)
fi

# Build (which rewrites native.d.ts from the Rust declarations), then compare with what was
# committed: a difference means the declarations drifted from src/lib.rs.
committed="$(mktemp)"
trap 'rm -f "$committed"' EXIT
cp native.d.ts "$committed"
npx napi build "${profile[@]}" --no-js --dts native.d.ts --target-dir "$CARGO_TARGET_DIR"
if ! diff -u "$committed" native.d.ts; then
  if [[ -z "${SYSPRIMS_UPDATE_DTS:-}" ]]; then
    cp "$committed" native.d.ts
    echo "bindings/node/native.d.ts is stale (the diff above is what src/lib.rs generates):" \
      "run SYSPRIMS_UPDATE_DTS=1 bindings/node/test.sh and commit it" >&2
    exit 1
  fi
  echo "native.d.ts updated" >&2
fi

cargo fmt --check
cargo clippy "${profile[@]}" --locked --target-dir "$CARGO_TARGET_DIR" -- -D warnings
node --test --test-concurrency=1 test/*.test.js

if [ "${1:-}" = "--bench" ]; then
  node bench/bench.js
fi
