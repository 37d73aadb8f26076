#!/usr/bin/env bash
# bash loads the generated completion file (as bash-completion would) and completes commands
# and models through `costi completion words`.
set -euo pipefail
script=$(realpath "$2")
source "$(dirname "$0")/path_costi.sh" "$1"
out=$(bash --norc -c '
  source "$1"
  complete -p costi
  COMP_WORDS=(costi ru); COMP_CWORD=1; _costi; printf "%s\n" "${COMPREPLY[@]}"
  COMP_WORDS=(costi run gpt); COMP_CWORD=2; _costi; printf "%s\n" "${COMPREPLY[@]}"
' bash "$script" 2>&1)
echo "$out"
grep -qx 'complete -o default -F _costi costi' <<<"$out" || fail "not registered"
grep -qx 'run' <<<"$out" || fail "no command 'run'"
grep -qx 'gpt2' <<<"$out" || fail "no model gpt2"
echo "bash completion ok"
