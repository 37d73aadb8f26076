#!/usr/bin/env bash
# costi fmt on the command line: formats in place (keeping the file's permissions, leaving
# no temporary file), is idempotent, reads `-` from stdin, leaves a file that does not parse
# byte for byte as it was, and --check's exit status says whether anything would change.
set -u
costi=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

printf 'kernel K(M,N){\n  let E=M*N # elements\n  flops=2*E\n  read = E\n}\n' > "$dir/a.cost"
want=$'kernel K(M, N) {\n  let E = M * N   # elements\n  flops = 2 * E\n  read  = E\n}'
chmod 640 "$dir/a.cost"

"$costi" fmt --check "$dir/a.cost" > "$dir/out" && fail "--check passed an unformatted file"
grep -q 'a.cost: not formatted' "$dir/out" || fail "--check did not name the file: $(cat "$dir/out")"
grep -q '^  line 1:' "$dir/out" || fail "--check did not show the first differing line"
[ "$(stat -c %a "$dir/a.cost")" = 640 ] || fail "--check touched the file"

"$costi" fmt "$dir/a.cost" > /dev/null || fail "fmt failed"
[ "$(cat "$dir/a.cost")" = "$want" ] || fail "unexpected layout: $(cat "$dir/a.cost")"
[ "$(stat -c %a "$dir/a.cost")" = 640 ] || fail "permissions not kept"
[ "$(ls "$dir" | grep -c costi-fmt)" = 0 ] || fail "a temporary file was left behind"
"$costi" fmt --check "$dir/a.cost" || fail "--check fails on a formatted file"
before=$(stat -c %Y.%i "$dir/a.cost")
"$costi" fmt "$dir/a.cost" > "$dir/out" || fail "second fmt failed"
[ ! -s "$dir/out" ] || fail "a formatted file was reported as changed"
[ "$(stat -c %Y.%i "$dir/a.cost")" = "$before" ] || fail "a formatted file was rewritten"

# stdin to stdout
out=$(printf 'runtime x=1+2*3\n' | "$costi" fmt -) || fail "fmt - failed"
[ "$out" = "runtime x = 1 + 2 * 3" ] || fail "fmt - printed: $out"

# stdin that does not parse comes back unchanged (editor filters), the error on stderr
out=$(printf 'runtime x = (1\n' | "$costi" fmt - 2> "$dir/err"); [ $? = 1 ] || fail "fmt - accepted bad input"
[ "$out" = "runtime x = (1" ] || fail "fmt - did not echo bad input: $out"
grep -q '<stdin>:1:.*\[E0001\]' "$dir/err" || fail "fmt - error: $(cat "$dir/err")"

# a file that does not parse: the error as costi check reports it, the file untouched
printf 'kernel K {\n  a: $x(N = 1 K = 2)\n}\n' > "$dir/bad.cost"
cp "$dir/bad.cost" "$dir/bad.orig"
"$costi" fmt "$dir/bad.cost" 2> "$dir/err" && fail "fmt accepted a file that does not parse"
"$costi" check "$dir/bad.cost" 2> "$dir/check_err"
diff "$dir/err" "$dir/check_err" || fail "fmt's parse error differs from costi check's"
grep -q 'bad.cost:2:.*\[E0001\]' "$dir/err" || fail "no file:line:col and code: $(cat "$dir/err")"
cmp -s "$dir/bad.cost" "$dir/bad.orig" || fail "the file that does not parse was changed"

# the other files named are still formatted; the status reports the failure
printf 'runtime y=2\n' > "$dir/c.cost"
"$costi" fmt "$dir/bad.cost" "$dir/c.cost" > /dev/null 2>&1 && fail "status 0 despite a parse error"
[ "$(cat "$dir/c.cost")" = "runtime y = 2" ] || fail "the good file was not formatted"

# misuse
"$costi" fmt > /dev/null 2>&1; [ $? = 2 ] || fail "no FILE is not a misuse"
echo ok
