#!/usr/bin/env bash
# ctest's editors.vim_syntax: loads editors/vim on every .cost file of the repository and checks
# chosen positions (syntax_test.vim). Exit 77 (skipped) when vim is not installed.
set -u
cd "$(dirname "$0")/../../.." || exit 1
if ! command -v vim >/dev/null 2>&1; then
  echo "SKIPPED: vim is not installed (apt-get install vim)"
  exit 77
fi
result=$(mktemp)
trap 'rm -f "$result"' EXIT
COST_VIM_RESULT=$result vim -Es -N -u NONE -i NONE --cmd 'set rtp^=editors/vim' -S editors/vim/test/syntax_test.vim </dev/null
status=$?
cat "$result"
if [ "$status" -ne 0 ] || ! grep -q '^ok [0-9]*$' "$result"; then
  echo "FAILED: vim syntax test (exit $status)"
  exit 1
fi
