#!/usr/bin/env bash
# The library as a user gets it: `cmake --install` to a fresh prefix, then a project outside
# costi's tree (tests/pkg/consumer) configured with find_package(costi) through
# CMAKE_PREFIX_PATH, built, and run from / so that it finds the installed library files.
set -euo pipefail
build=$1
work=$2
consumer="$(cd "$(dirname "$0")" && pwd)/consumer"
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/build" >/dev/null
cd /
"$work/build/consumer" "$work/prefix"
