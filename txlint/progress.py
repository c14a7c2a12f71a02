"""A progress bar on stderr for runs that take a while (contract: Command line).

Shown only when stderr is a terminal, never with ``--quiet`` (nor ``--verbose``, which prints a line
per file instead), and only once the run has taken longer than :data:`DELAY` seconds, so that quick
runs print nothing extra.  The bar is one line redrawn in place with ``\\r`` and erased when the
run ends, so the findings and the summary that follow are not disturbed.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Callable, TextIO

#: seconds a run must have taken before the bar appears
DELAY = 1.0
#: least seconds between two redraws
REFRESH = 0.1


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class ProgressBar:
    """``advance()`` once per file done; ``close()`` erases the bar (when it was drawn)."""

    def __init__(self, total: int, stream: TextIO, *, delay: float | None = None,
                 clock: Callable[[], float] = time.monotonic, label: str = "txlint"):
        self.total = max(0, total)
        self.stream = stream
        self.delay = DELAY if delay is None else delay
        self.clock = clock
        self.label = label
        self.done = 0
        self.started = clock()
        self.last_draw: float | None = None
        self.shown = False

    def advance(self, _result=None, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        now = self.clock()
        if now - self.started < self.delay:
            return
        if self.last_draw is not None and now - self.last_draw < REFRESH and self.done < self.total:
            return
        self._draw(now)

    def line(self, now: float | None = None) -> str:
        """The bar's text (without the leading ``\\r``), fitted to the terminal's width."""
        now = self.clock() if now is None else now
        columns = shutil.get_terminal_size((80, 24)).columns
        counter = f" {self.done}/{self.total} files {now - self.started:.1f}s"
        width = max(10, min(40, columns - len(self.label) - len(counter) - 4))
        filled = width * self.done // self.total if self.total else width
        text = f"{self.label} [{'#' * filled}{'-' * (width - filled)}]{counter}"
        return text[: max(1, columns - 1)]

    def _draw(self, now: float) -> None:
        try:
            self.stream.write("\r\x1b[2K" + self.line(now))
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken terminal must not stop the run
            return
        self.shown = True
        self.last_draw = now

    def close(self) -> None:
        if not self.shown:
            return
        try:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
        except (OSError, ValueError):
            pass
        self.shown = False


def progress_bar(total: int, *, quiet: bool, verbose: bool, stream: TextIO | None = None) -> ProgressBar | None:
    """A bar for a run over ``total`` files, or ``None`` when none may be shown."""
    stream = sys.stderr if stream is None else stream
    if quiet or verbose or total < 1 or not _isatty(stream):
        return None
    return ProgressBar(total, stream)
