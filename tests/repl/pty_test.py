#!/usr/bin/env python3
"""costi repl through a real pseudo-terminal: the prompt, tab completion, history (in the
session and across sessions, in $COSTI_HISTORY), Ctrl-C at the prompt and inside an open
bracket, Ctrl-D inside an open bracket and on an empty line.

usage: pty_test.py COSTI TEST_DIR   (TEST_DIR holds tiny.cost)

Output on a terminal carries libedit's escape sequences, so the checks look for the
answers a line produces, not for the exact bytes of the screen.
"""
import os
import pty
import re
import select
import sys
import tempfile
import termios
import time

COSTI, TEST_DIR = sys.argv[1], sys.argv[2]
TIMEOUT = 20  # seconds for one answer; generous for a loaded CI machine


class Repl:
    def __init__(self, env):
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(TEST_DIR)
            os.execve(COSTI, [COSTI, "repl", "tiny.cost"], env)
        self.pid, self.fd = pid, fd
        self.out = b""
        self.mark = 0

    def expect(self, text):
        """Reads until `text` appears after everything matched so far."""
        want = text.encode()
        deadline = time.time() + TIMEOUT
        while want not in self.out[self.mark:]:
            left = deadline - time.time()
            ready, _, _ = select.select([self.fd], [], [], max(0.0, left))
            if not ready:
                fail("timed out waiting for %r" % text, self)
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                data = b""
            if not data:
                fail("costi ended while waiting for %r" % text, self)
            self.out += data
        self.mark = self.out.index(want, self.mark) + len(want)

    def send(self, keys):
        """Types keys once libedit is reading: it prints the prompt before it puts the
        terminal in raw mode, and a Ctrl-D typed in between is the canonical-mode EOF."""
        deadline = time.time() + TIMEOUT
        while termios.tcgetattr(self.fd)[3] & termios.ICANON:
            if time.time() > deadline:
                fail("the terminal never left canonical mode", self)
            time.sleep(0.01)
        os.write(self.fd, keys.encode())

    def finish(self):
        """Waits for costi to end and returns its exit status."""
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid != 0:
                return os.waitstatus_to_exitcode(status)
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.out += os.read(self.fd, 4096)
                except OSError:
                    pass
        fail("costi did not end", self)


def fail(message, repl=None):
    print("FAIL: " + message)
    if repl is not None:
        print("---- terminal output ----")
        print(repl.out.decode("utf-8", "replace"))
        try:
            os.kill(repl.pid, 9)
        except OSError:
            pass
    sys.exit(1)


def main():
    home = tempfile.mkdtemp(prefix="costi-pty-")
    history = os.path.join(home, "history")
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "TERM": "xterm", "COSTI_HISTORY": history, "LANG": "C.UTF-8"}

    r = Repl(env)
    r.expect("model tiny")
    r.expect("costi> ")

    # A binding, with the name completed by Tab.
    r.send("seq_\t = 16\r")
    r.expect("seq_len = 16")
    r.expect("costi> ")
    r.send("flops\r")
    r.expect("32768")
    r.expect("costi> ")

    # Completion of a command, a kernel name after $, and a config key.
    r.send(":hel\t\r")
    r.expect("what-if questions")
    r.expect("costi> ")
    r.send("$tiny.Lin\t(M = 1, K = 1, N = 1)\r")
    r.expect("flops          2")
    r.expect("costi> ")
    r.send("config.hid\t * 2\r")
    r.expect("16")
    r.expect("costi> ")
    # Several candidates: Tab lists them.
    r.send(":s\t")
    r.expect(":show")
    r.expect(":sweep")
    r.send("\x15")  # Ctrl-U: clear the line
    r.send("\r")
    r.expect("costi> ")

    # History within the session: Up recalls `flops`.
    r.send("batch_size = 2\r")
    r.expect("batch_size = 2")
    r.expect("costi> ")
    r.send("flops\r")
    r.expect("65536")
    r.expect("costi> ")
    r.send("batch_size = 1\r")
    r.expect("batch_size = 1")
    r.expect("costi> ")
    r.send("\x1b[A\x1b[A\r")  # Up twice: `flops`
    r.expect("32768")
    r.expect("costi> ")

    # Ctrl-C clears a half-typed line, and an open bracket; the session goes on.
    r.send("garbage that is never run")
    r.send("\x03")
    r.expect("^C")
    r.expect("costi> ")
    r.send("(1 +\r")
    r.expect("...> ")
    r.send("\x03")
    r.expect("costi> ")
    r.send("6 * 7\r")
    r.expect("42")
    r.expect("costi> ")

    # Ctrl-D inside an open bracket drops the unfinished input only.
    r.send("(2 *\r")
    r.expect("...> ")
    r.send("\x04")
    r.expect("(unfinished input dropped)")
    r.expect("costi> ")
    r.send("seq_len\r")
    r.expect("16")
    r.expect("costi> ")

    # A multi-line definition at the continuation prompt.
    r.send("kernel pty.K(n) {\r")
    r.expect("...> ")
    r.send("  flops = 3 * n\r")
    r.expect("...> ")
    r.send("}\r")
    r.expect("kernel pty.K(n)")
    r.expect("costi> ")

    r.send(":quit\r")
    status = r.finish()
    if status != 0:
        fail("exit status %d after :quit" % status, r)

    with open(history, encoding="utf-8", errors="replace") as f:
        # libedit writes each line strvis-encoded: a space as \040.
        saved = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), f.read())
    for line in ["seq_len = 16", "flops"]:
        if line not in saved:
            fail("history file lacks %r:\n%s" % (line, saved))

    # A new session recalls the last one's lines; Ctrl-D on an empty line ends it.
    r = Repl(env)
    r.expect("costi> ")
    r.send("\x1b[A")  # Up: `:quit` is the newest entry
    r.expect(":quit")
    r.send("\r")
    status = r.finish()
    if status != 0:
        fail("exit status %d after recalled :quit" % status, r)
    r = Repl(env)
    r.expect("costi> ")
    r.send("\x04")
    status = r.finish()
    if status != 0:
        fail("exit status %d after Ctrl-D" % status, r)
    print("ok")


main()
