#!/usr/bin/env bash
# zsh loads the generated _costi both ways (sourced after compinit, and autoloaded from
# $fpath as an installed one is) and completes commands, models and run's flags from
# costi's command table. Skipped (77) without zsh.
set -euo pipefail
command -v zsh >/dev/null || exit 77
script=$(realpath "$2")
source "$(dirname "$0")/path_costi.sh" "$1"
cd "$scratch"

# Sourced: registers _costi for costi; _costi_candidates gives "word:description".
out=$(zsh -f -c '
  autoload -U compinit && compinit -u -D
  source "$1"
  print -r -- "registered: ${_comps[costi]}"
  words=(costi ru); CURRENT=2; _costi_candidates; print -rl -- "${reply[@]}"
  words=(costi run gpt); CURRENT=3; _costi_candidates; print -rl -- "${reply[@]}"
  words=(costi run gpt2 --seq); CURRENT=4; _costi_candidates; print -rl -- "${reply[@]}"
  words=(costi completion ""); CURRENT=3; _costi_candidates; print -rl -- "${reply[@]}"
' zsh "$script" 2>&1)
echo "$out"
grep -qx 'registered: _costi' <<<"$out" || fail "sourcing did not register _costi"
grep -qx 'run:evaluate a model and print its breakdown (table or JSON)' <<<"$out" || fail "no command 'run'"
grep -qx 'gpt2:openai-community/gpt2' <<<"$out" || fail "no model gpt2"
grep -q '^--seq_len:' <<<"$out" || fail "no flag --seq_len"
grep -qx 'fish' <<<"$out" || fail "no shell fish"
[ "$(grep -c . <<<"$out")" -ge 5 ] || fail "too few candidates"

# Autoloaded from a folder of $fpath, as `cmake --install` puts it.
mkdir site-functions
cp "$script" site-functions/_costi
out=$(zsh -f -c '
  fpath=("$PWD/site-functions" $fpath)
  autoload -U compinit && compinit -u -D
  print -r -- "registered: ${_comps[costi]}"
' 2>&1)
echo "$out"
[ "$out" = 'registered: _costi' ] || fail "compinit did not find _costi in \$fpath"
echo "zsh completion ok"
