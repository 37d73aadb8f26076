#!/usr/bin/env bash
# Runs one golden case: `costi ARGS` where ARGS come from the case's first line
# (`# costi: run FILE --seq_len 4`, FILE standing for the case itself), and compares
# stdout, stderr and the exit status with CASE.expected. With UPDATE_GOLDEN=1 it
# rewrites the expected file instead (review the diff by hand before committing).
set -u
costi=$1
case_file=$2
dir=$(dirname "$case_file")
name=$(basename "$case_file")
expected="${case_file%.cost}.expected"
header=$(head -n 1 "$case_file")
args=${header#\# costi: }
if [ "$args" = "$header" ]; then
  echo "golden case $name lacks a '# costi: ARGS' first line" >&2
  exit 1
fi
cd "$dir" || exit 1
# shellcheck disable=SC2086
out=$("$costi" ${args//FILE/$name} 2>/tmp/costi_golden_err.$$; echo "exit: $?")
err=$(cat /tmp/costi_golden_err.$$)
rm -f /tmp/costi_golden_err.$$
actual=$(printf '%s\n--- stderr ---\n%s\n' "$out" "$err")
if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
  printf '%s\n' "$actual" > "$expected"
  exit 0
fi
if [ "$(cat "$expected" 2>/dev/null)" != "$actual" ]; then
  diff -u "$expected" <(printf '%s\n' "$actual")
  exit 1
fi
case "$name" in
  error_*) grep -q '^exit: [12]$' "$expected" || { echo "error case must fail"; exit 1; } ;;
  *) grep -q '^exit: 0$' "$expected" || { echo "non-error case must succeed"; exit 1; } ;;
esac
