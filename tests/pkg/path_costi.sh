# Sourced by the shell tests: puts the costi under test on PATH as `costi` (the completion
# scripts run the costi the user typed) and makes a scratch directory, removed on exit.
# shellcheck shell=bash
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/bin"
ln -s "$(realpath "$1")" "$scratch/bin/costi"
export PATH="$scratch/bin:$PATH"
fail() {
  echo "$*" >&2
  exit 1
}
