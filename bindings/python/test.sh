#!/usr/bin/env bash
# Builds the Python binding into a virtual environment and runs its tests: creates
# bindings/python/.venv (python3 -m venv), installs maturin, pytest and psutil from PyPI,
# builds and installs the package (maturin develop), lints the Rust side (fmt, clippy), and
# runs pytest. Tests that need root or unshare(1) skip unless SYSPRIMS_REQUIRE_ALL=1. The tests
# use a debug build (a fraction of a release build's time); with --bench the package is built
# for release and the benchmark against psutil runs after the tests.
set -euo pipefail
cd "$(dirname "$0")"

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check "maturin>=1.9,<2" pytest psutil
export PYO3_PYTHON="$PWD/$venv/bin/python"

profile=()
if [ "${1:-}" = "--bench" ]; then
  profile=(--release)
fi

cargo fmt -- --check
cargo clippy --locked "${profile[@]}" --all-targets -- -D warnings
"$venv/bin/maturin" develop "${profile[@]}" --locked -q
"$venv/bin/python" -m pytest -q tests

if [ "${1:-}" = "--bench" ]; then
  "$venv/bin/python" bench/bench_vs_psutil.py
fi
