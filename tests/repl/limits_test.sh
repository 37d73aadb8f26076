#!/usr/bin/env bash
# costi repl against hostile input on stdin: lines and inputs beyond 1 MiB, a deep pile of
# open brackets over many lines, bytes that are not UTF-8. Each must end in a clear error
# (or an answer) and the session must go on to the next line; never a crash or a hang.
# (ctest gives this test a time limit: rescanning the whole input on every line, as the
# REPL once did, takes minutes on the bracket case.)
#
# usage: limits_test.sh COSTI TEST_DIR   (TEST_DIR holds tiny.cost)
set -u
costi=$1
test_dir=$2
cd "$test_dir" || exit 1
export COSTI_PATH
COSTI_PATH=$(cd ../.. && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $1"
  failures=$((failures + 1))
}

# run NAME: costi repl tiny.cost < $work/NAME.in, stdout to NAME.out, stderr to NAME.err,
# exit status to $status.
run() {
  "$costi" repl tiny.cost < "$work/$1.in" > "$work/$1.out" 2> "$work/$1.err"
  status=$?
  if [ "$status" -gt 2 ]; then fail "$1: exit status $status (a crash?)"; fi
}

expect_out() {  # NAME TEXT: stdout has the line TEXT
  grep -qxF -- "$2" "$work/$1.out" || fail "$1: stdout lacks the line '$2'"
}
expect_err() {  # NAME TEXT: stderr contains TEXT
  grep -qF -- "$2" "$work/$1.err" || fail "$1: stderr lacks '$2'"
}

# A line of exactly 1 MiB (1048576 bytes) is read; one byte more is dropped with E0403,
# and the next line is answered. 1 followed by spaces evaluates to 1.
{
  printf '1'; head -c 1048575 /dev/zero | tr '\0' ' '; printf '\n'
  printf '2'; head -c 1048576 /dev/zero | tr '\0' ' '; printf '\n'
  printf '3 + 4\n'
} > "$work/boundary.in"
run boundary
expect_out boundary "1"
expect_out boundary "7"
expect_err boundary "line 2 is longer than 1 MiB; it was dropped [E0403]"
grep -qx "2" "$work/boundary.out" && fail "boundary: the over-long line was evaluated"
[ "$status" = 1 ] || fail "boundary: exit status $status, expected 1"

# A newline-free binary stream: one over-long line, read and dropped without keeping it.
{ head -c 3000000 /dev/urandom | tr -d '\n'; printf '\n5 * 6\n'; } > "$work/binary.in"
run binary
expect_err binary "line 1 is longer than 1 MiB; it was dropped [E0403]"
expect_out binary "30"

# 10500 lines of 100 open brackets: the input passes 1 MiB at line 10383 and is dropped;
# the lines after it start a new input, which :quit ends (reporting it) and leaves.
python3 -c "import sys; sys.stdout.write(('(' * 100 + '\n') * 10500 + ':quit\n')" > "$work/brackets.in"
run brackets
expect_err brackets "the input that began on line 1 is longer than 1 MiB; it was dropped [E0403]"
expect_err brackets "<repl:10383>"
[ "$status" = 1 ] || fail "brackets: exit status $status, expected 1"

# Bytes that are not UTF-8 in every kind of line: errors, never a crash, and everything
# printed is valid UTF-8. The last line still gets its answer.
printf '%b\n' '\xff' 'seq_len = \xfe' '"\xff\xfe"' 'let a\xff = 1' ':load \xff.cost' ':kernels \xff' \
  ':help \xff' 'kernel \xff { }' 'config.\xff = 1' '$\xff()' ':\xff' ':sweep seq_len in \xff' \
  '8 * 8' > "$work/bytes.in"
run bytes
expect_out bytes "64"
[ "$status" = 1 ] || fail "bytes: exit status $status, expected 1"
for stream in out err; do
  iconv -f UTF-8 -t UTF-8 "$work/bytes.$stream" > /dev/null 2>&1 || fail "bytes: std$stream is not valid UTF-8"
done

if [ "$failures" -gt 0 ]; then exit 1; fi
echo ok
