#!/usr/bin/env bash
# costi repl on a real terminal (a tmux pane): the prompt, tab completion, history within a
# session and across sessions ($COSTI_HISTORY), Ctrl-C at the prompt and inside an open
# bracket, Ctrl-D inside an open bracket and on an empty line, a multi-line definition,
# Ctrl-C during a long evaluation.
#
# usage: tty_test.sh COSTI TEST_DIR   (TEST_DIR holds tiny.cost)
#
# The checks read the screen as tmux renders it, so they see what a person would see.
set -u
costi=$1
test_dir=$2
socket=""
sessions=0
home=$(mktemp -d)
history_file="$home/history"
timeout_s=20  # for one answer; generous for a loaded CI machine
tm() { tmux -L "$socket" -f /dev/null "$@"; }
trap '[ -n "$socket" ] && tm kill-server 2>/dev/null; rm -rf "$home"' EXIT

fail() {
  echo "FAIL: $1"
  echo "---- screen ----"
  tm capture-pane -p -S -2000 -t repl 2>/dev/null
  exit 1
}

screen() { tm capture-pane -p -S -2000 -t repl; }
# How often the screen shows TEXT; "line:TEXT" counts only lines that are exactly TEXT.
count() {
  case "$1" in
    line:*) screen | sed 's/ *$//' | grep -cxF -- "${1#line:}" ;;
    *) screen | grep -cF -- "$1" ;;
  esac
}

# Waits until the screen shows `text` more often than it did `before` (a count).
wait_for() {
  local text=$1 before=$2 deadline=$((SECONDS + timeout_s))
  while [ "$(count "$text")" -le "$before" ]; do
    [ $SECONDS -ge $deadline ] && fail "timed out waiting for '$text'"
    sleep 0.05
  done
}

# Waits until libedit reads keys: it prints the prompt before it puts the terminal in raw
# mode, and keys typed in between reach the terminal's line discipline instead.
wait_raw() {
  local tty deadline=$((SECONDS + timeout_s))
  tty=$(tm display-message -p -t repl '#{pane_tty}')
  until stty -F "$tty" -a 2>/dev/null | grep -q -- '-icanon'; do
    [ $SECONDS -ge $deadline ] && fail "the terminal never left canonical mode"
    sleep 0.02
  done
}

# type KEYS… (tmux key names: Enter, Tab, C-c, Up; literal text otherwise)
type_keys() {
  wait_raw
  local k
  for k in "$@"; do
    case "$k" in
      Enter | Tab | Up | C-c | C-d | C-u) tm send-keys -t repl "$k" ;;
      *) tm send-keys -t repl -l -- "$k" ;;
    esac
  done
}

# step EXPECTED KEYS…: types the keys and waits for EXPECTED to appear once more.
step() {
  local expected=$1 before
  shift
  before=$(count "$expected")
  type_keys "$@"
  wait_for "$expected" "$before"
}

# Starts costi on FILE (default tiny.cost) in a fresh tmux server (each on its own
# socket: a server being shut down must not take the next session's commands).
start() {
  local file=${1:-tiny.cost}
  [ -n "$socket" ] && tm kill-server 2>/dev/null
  sessions=$((sessions + 1))
  socket="costi-tty-test-$$-$sessions"
  tm new-session -d -s repl -x 150 -y 50 \
    "cd '$test_dir' && env -i PATH=/usr/bin:/bin HOME='$home' TERM=xterm LANG=C.UTF-8 COSTI_HISTORY='$history_file' \
     '$costi' repl '$file'; echo \"costi exited with \$?\"; sleep 600"
  wait_for "costi>" 0
}

start
wait_for "model tiny" 0

# A binding whose name is completed by Tab, then an answer that uses it.
step "line:seq_len = 16" "seq_" Tab " = 16" Enter
step "32,768" "flops" Enter
# Completion of a command, a kernel name after $, a config key.
step "what-if questions" ":hel" Tab Enter
step "active_params  0" '$tiny.Lin' Tab "(M = 1, K = 1, N = 1)" Enter
screen | grep -qF 'costi> $tiny.Linear(M = 1, K = 1, N = 1)' || fail "the kernel name was not completed"
step "line:16" "config.hid" Tab " * 2" Enter
# Several candidates: Tab lists them.
step ":sweep" ":s" Tab
type_keys C-u Enter

# History within the session: Up Up recalls `flops`.
step "line:batch_size = 2" "batch_size = 2" Enter
step "65,536" "flops" Enter
step "line:batch_size = 1" "batch_size = 1" Enter
step "32,768" Up Up Enter

# Ctrl-C clears a half-typed line and an open bracket; the session goes on.
step "never run" "garbage that is never run"
step "^C" C-c
step "line:42" "6 * 7" Enter
step "...>" "(1 +" Enter
step "^C" C-c
step "line:2,468" "1234 * 2" Enter
screen | grep -qF "unknown name 'garbage'" && fail "a line cleared by Ctrl-C was run"

# Ctrl-D inside an open bracket drops the unfinished input only.
step "...>" "(2 *" Enter
step "(unfinished input dropped)" C-d
step "16  session" ":bindings" Enter

# A definition over several lines at the continuation prompt.
step "...>" "kernel tty.K(n) {" Enter
step "...>" "  flops = 3 * n" Enter
step "line:kernel tty.K(n)" "}" Enter
step "costi exited with 0" ":quit" Enter

grep -qF 'seq_len\040=\04016' "$history_file" || fail "the history file lacks 'seq_len = 16'"

# A new session recalls the last one's lines: Up brings back :quit.
start
step "costi exited with 0" Up Enter
# Ctrl-D on an empty line ends the session.
start
step "costi exited with 0" C-d

# Ctrl-C during an evaluation stops it with E0208 and keeps the session (slow.cost makes
# 2^22 distinct calls, far longer than the moment it takes to press the key).
start slow.cost
type_keys "flops" Enter
sleep 0.5
# Sent straight away: during an evaluation the terminal is not in libedit's raw mode.
tm send-keys -t repl C-c
wait_for "[E0208]" 0
step "line:42" "6 * 7" Enter
screen | grep -qF "26,388,276,969,472" && fail "the interrupted evaluation printed an answer"
step "costi exited with 0" ":quit" Enter
echo ok
