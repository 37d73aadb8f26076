#!/usr/bin/env bash
# Runs one scripted REPL session: `costi repl --echo ARGS < NAME.txt` in tests/repl, where
# ARGS come from the session's first line (`# costi repl: tiny.cost`), and compares the
# transcript (stdout and stderr interleaved as printed, then the exit status) with
# NAME.out. With UPDATE_GOLDEN=1 it rewrites NAME.out instead: check every number in the
# diff by hand before committing it.
set -u
costi=$1
session=$2
dir=$(dirname "$session")
name=$(basename "$session")
expected="${session%.txt}.out"
header=$(head -n 1 "$session")
args=${header#\# costi repl:}
if [ "$args" = "$header" ]; then
  echo "session $name lacks a '# costi repl: ARGS' first line" >&2
  exit 1
fi
cd "$dir" || exit 1
# The library is the source tree's, whatever costi may have installed elsewhere.
export COSTI_PATH
COSTI_PATH=$(cd ../.. && pwd)
actual_file=$(mktemp)
trap 'rm -f "$actual_file"' EXIT
# One file for both streams keeps errors in order with the answers around them.
# shellcheck disable=SC2086
"$costi" repl --echo $args < "$name" > "$actual_file" 2>&1
echo "exit: $?" >> "$actual_file"
if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
  cp "$actual_file" "$expected"
  exit 0
fi
if ! cmp -s "$expected" "$actual_file"; then
  diff -u "$expected" "$actual_file"
  exit 1
fi
