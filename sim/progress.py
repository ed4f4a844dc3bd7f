# Ref: project-internal (command-line tools' status line)
"""The status line of long runs (`vgic fuzz`, `vgic replay`, `vgic import`):
on stderr, rewritten in place on a terminal, a new line every `interval`
seconds otherwise (a log file or CI)."""
import sys
import time

__all__ = ["StatusLine"]


class StatusLine:
    def __init__(self, out=None, interval=None):
        self.out = out or sys.stderr
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self.interval = interval if interval is not None else (0.5 if self.tty else 10.0)
        self.start = self.last = time.monotonic()
        self.shown = False

    @property
    def elapsed(self):
        return max(time.monotonic() - self.start, 1e-9)

    def due(self):
        """True (and the clock restarted) when the next line is due."""
        now = time.monotonic()
        if now - self.last < self.interval:
            return False
        self.last = now
        return True

    def show(self, text):
        self.shown = True
        self.out.write("\r" + text + "\x1b[K" if self.tty else text + "\n")
        self.out.flush()

    def finish(self):
        """End the line on a terminal (before other output)."""
        if self.tty and self.shown:
            self.out.write("\n")
            self.out.flush()
