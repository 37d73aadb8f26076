#!/bin/bash
# costi sweep under Ctrl-C (docs/sweep.md, "Streaming and Ctrl-C"): a sweep of 10^8 points is
# interrupted with SIGINT once rows are flowing. It must stop after the current row with exit
# status 130, say `costi: interrupted after N of M rows` on stderr, and leave exactly N
# complete rows after the header: no half row, every row with every column.
set -u
costi=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "sweep_interrupt: $*" >&2; echo "--- stderr:" >&2; cat "$dir/err" >&2; exit 1; }

"$costi" sweep models/llama-3-8b.cost --seq_len 1..100000000 --columns flops,read,write --format csv \
  > "$dir/out" 2> "$dir/err" &
pid=$!
for _ in $(seq 1 400); do
  [ "$(wc -l < "$dir/out")" -gt 2000 ] && break
  sleep 0.05
done
[ "$(wc -l < "$dir/out")" -gt 2000 ] || { kill -KILL "$pid"; fail "no rows after 20 s"; }
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || fail "exit status $rc, expected 130"
grep -Eq '^costi: interrupted after [0-9]+ of 100000000 rows$' "$dir/err" || fail "no 'interrupted after N of M rows' line"
n=$(sed -nE 's/^costi: interrupted after ([0-9]+) of .*/\1/p' "$dir/err")
rows=$(($(wc -l < "$dir/out") - 1))
[ "$rows" -eq "$n" ] || fail "stderr says $n rows, stdout has $rows"
[ "$(tail -c 1 "$dir/out" | od -An -c | tr -d ' ')" = '\n' ] || fail "the last row is cut"
head -1 "$dir/out" | grep -qx 'seq_len,flops,read,write,error' || fail "header: $(head -1 "$dir/out")"
# Every row: 5 fields, seq_len counting 1, 2, 3, … without a gap, each value exact digits,
# the error column empty.
awk -F, 'NR > 1 && (NF != 5 || $1 != NR - 1 || $2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ || $4 !~ /^[0-9]+$/ || $5 != "") { print "row " NR ": " $0; exit 1 }' \
  "$dir/out" || fail "a malformed row"
echo "sweep_interrupt: ok ($n rows before Ctrl-C)"
