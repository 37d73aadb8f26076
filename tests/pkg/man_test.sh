#!/usr/bin/env bash
# The generated costi.1 is what `costi man` prints, groff renders it without a warning
# (-ww: all warnings), man -l shows it, and it names every command `costi --help` lists.
# Skipped (77) without groff.
set -euo pipefail
command -v groff >/dev/null || exit 77
page=$(realpath "$2")
source "$(dirname "$0")/path_costi.sh" "$1"
diff <(costi man) "$page" || fail "$page is not what costi man prints"
warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
[ -z "$warnings" ] || fail "groff warns: $warnings"
# Plain text: grotty's overstrikes (bold, underline) removed.
plain() { LC_ALL=C.UTF-8 sed $'s/.\x08//g'; }
rendered=$(groff -man -Tutf8 -ww "$page" 2>&1 | plain)
if command -v man >/dev/null; then
  shown=$(MANWIDTH=80 MANPAGER=cat man -l "$page" 2>"$scratch/err" | plain)
  [ ! -s "$scratch/err" ] || fail "man -l: $(cat "$scratch/err")"
  [ "$(grep -c . <<<"$shown")" -gt 50 ] || fail "man -l shows too little"
fi
grep -q '^NAME' <<<"$rendered" || fail "no NAME section"
grep -q 'costi - exact cost formulas' <<<"$rendered" || fail "NAME line: $(grep -A1 '^NAME' <<<"$rendered")"
# The commands `costi --help` lists: the lines after "commands:" up to the blank line.
commands=$(costi --help | awk '/^commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}')
[ -n "$commands" ] || fail "no commands in costi --help"
for c in $commands; do
  grep -Eq "^ +costi $c( |$)" <<<"$rendered" || fail "the manual has no section for costi $c"
done
grep -q -- '--seq_len' <<<"$rendered" || fail "no runtime flag --seq_len"
echo "man page ok: $(wc -l <<<"$rendered") lines, commands: $(echo $commands)"
