#!/usr/bin/env bash
# fish parses the generated costi.fish and completes commands, models, run's flags and, where
# costi offers nothing, file names. Skipped (77) without fish.
set -euo pipefail
command -v fish >/dev/null || exit 77
script=$(realpath "$2")
source "$(dirname "$0")/path_costi.sh" "$1"
cd "$scratch"
fish --no-config -n "$script" || fail "fish -n: $script does not parse"
touch my_model.cost
complete() {
  fish --no-config -c "source '$script'; complete -C '$1'" 2>&1
}
tab=$'\t'
out=$(complete 'costi ru')
echo "$out"
grep -qx "run${tab}evaluate a model and print its breakdown (table or JSON)" <<<"$out" || fail "no command 'run'"
out=$(complete 'costi run gpt')
echo "$out"
grep -qx "gpt2${tab}openai-community/gpt2" <<<"$out" || fail "no model gpt2"
out=$(complete 'costi run llama-3-8b --seq')
echo "$out"
grep -q "^--seq_len${tab}" <<<"$out" || fail "no flag --seq_len"
out=$(complete 'costi run gpt2 --format ')
echo "$out"
[ "$(printf '%s\n' "$out" | sort | tr '\n' ' ')" = "json table " ] || fail "--format: $out"
out=$(complete 'costi check my_')
echo "$out"
grep -qx 'my_model.cost' <<<"$out" || fail "no file name where costi offers nothing"
echo "fish completion ok"
