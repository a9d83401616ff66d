"""Progress of a batch run on stderr (the batch engine's ``progress`` callback).

On a terminal, tqdm's bar (replicas done, rate, time left). Off a terminal (a log file, a
CI job), where a self-rewriting bar would pile up carriage returns, a plain line every
``PROGRESS_EVERY`` seconds, formatted by tqdm too. Either way, when the first slice of
replicas finishes, a run estimated to take longer than ``LONG_RUN`` seconds says so.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

# A run estimated (from its first slice) to take longer than this says so; off a
# terminal, progress is a line on stderr this often.
LONG_RUN = 30.0
PROGRESS_EVERY = 5.0
BAR_FORMAT = ("{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} replicas "
              "[{elapsed}<{remaining}, {rate_fmt}]")
LINE_FORMAT = "{desc}: {n_fmt}/{total_fmt} replicas, {rate_fmt}, {remaining} left"
UNIT = " replicas"


class Progress:
    """Replicas done out of ``total``, shown on ``stream`` (default stderr).

    Args:
        label: What runs (the scenario's name), at the start of every line.
        total: Replicas to run.
        threads: Threads running them (for the estimate: each works on a slice at once).
        stream: Where to write (default ``sys.stderr``).
        terminal: Draw a bar (default: whether ``stream`` is a terminal).
    """

    def __init__(self, label: str, total: int, threads: int = 1, stream=None,
                 terminal: bool | None = None):
        self.label = label
        self.total = total
        self.threads = threads
        self.stream = sys.stderr if stream is None else stream
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.bar = None
        self.t0 = self.last = time.perf_counter()
        self.first = True

    def start(self) -> None:
        """Start the clock (and the bar): call when the replicas start running."""
        self.t0 = self.last = time.perf_counter()
        if self.terminal:
            self.bar = tqdm(total=self.total, desc=self.label, unit=UNIT, file=self.stream,
                            bar_format=BAR_FORMAT, leave=False, dynamic_ncols=True)

    def say(self, line: str) -> None:
        """Print a line without breaking the bar."""
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def update(self, done: int, total: int) -> None:
        """The batch engine's progress callback: ``done`` of ``total`` replicas."""
        now = time.perf_counter()
        elapsed = now - self.t0
        if self.first and done:
            self.first = False
            # Every thread worked on a slice meanwhile: threads x done replicas per elapsed.
            estimate = elapsed * max(1.0, total / (self.threads * done))
            if estimate >= LONG_RUN:
                self.say(f"{self.label}: {total} replicas will take about "
                         f"{tqdm.format_interval(estimate)} (estimated from the first "
                         f"{done}); Ctrl-C stops the run")
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        elif now - self.last >= PROGRESS_EVERY and 0 < done < total:
            self.last = now
            self.say(tqdm.format_meter(done, total, elapsed, prefix=self.label, unit=UNIT,
                                       bar_format=LINE_FORMAT))

    def close(self) -> None:
        """Remove the bar (the summary follows on stdout)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
