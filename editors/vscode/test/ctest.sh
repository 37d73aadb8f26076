#!/usr/bin/env bash
# ctest's editors.tokenize: the TextMate grammar test (tokenize.test.js) under node's test
# runner. Exit 77 (skipped) when node or the extension's dependencies are not installed
# (install them with `cd editors/vscode && npm ci`).
set -u
cd "$(dirname "$0")/.." || exit 1
if ! command -v node >/dev/null 2>&1; then
  echo "SKIPPED: node is not installed"
  exit 77
fi
if [ ! -d node_modules/vscode-textmate ] || [ ! -d node_modules/vscode-oniguruma ]; then
  echo "SKIPPED: editors/vscode/node_modules is missing (run: cd editors/vscode && npm ci)"
  exit 77
fi
exec node --test test/
