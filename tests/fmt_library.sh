#!/usr/bin/env bash
# `costi fmt --check` on every .cost file of the shipped library (stdlib, kernels, models,
# hardware): exit 0 when all are in the canonical layout, else the list of those that are not.
# Run from the source directory. The test cases under tests/ are not formatted: their exact
# bytes (and the lines diagnostics quote from them) are what they test.
set -eu
costi=$1
mapfile -t files < <(find stdlib kernels models hardware -name '*.cost' | sort)
[ "${#files[@]}" -gt 90 ] || { echo "found only ${#files[@]} library files"; exit 1; }
"$costi" fmt --check "${files[@]}"
