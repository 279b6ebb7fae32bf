"""`llm-shim watch`: the live view (shim/watch), refreshed every `--interval` seconds until
`q` or Ctrl-C; `--once` prints one frame. rich draws it when installed (`pip install
'llm-shim[live]'`) and stdout is a terminal; otherwise, or with `--plain`, it is plain text.
"""

import os
import sys
import time

from shim import errors, exitcodes, paths
from shim.cli.common import open_store

DEFAULT_INTERVAL = 1.5
MIN_INTERVAL = 0.2
CLEAR = "\x1b[H\x1b[2J"


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "watch",
        help="live view: calls running now, 5-hour blocks, today's spend, budgets",
        description="A live view refreshed every --interval seconds until q or Ctrl-C: the "
                    "calls running now (and those whose shim died), the current 5-hour block "
                    "per tool, today's spend by agent and model, every budget as a bar with "
                    "its headroom, and the recent fallbacks and refused calls. Drawn with "
                    "rich when it is installed (llm-shim[live]) and stdout is a terminal, "
                    "else as plain text.",
        examples=["llm-shim watch", "llm-shim watch --once", "llm-shim watch --interval 1"])
    p.add_argument("--once", action="store_true", help="print one frame and exit (scripts)")
    p.add_argument("--plain", action="store_true", help="plain text even on a terminal")
    p.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, metavar="SECONDS",
                   help=f"seconds between refreshes (default {DEFAULT_INTERVAL})")
    p.set_defaults(func=lambda args: watch(once=args.once, plain=args.plain,
                                           interval=args.interval))


def _rich():
    """The rich module, or None when the `live` extra is not installed."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return None
    return rich


def _spool_waiting():
    """True when end records wait in the spool (start lines alone are read in place)."""
    from shim.telemetry import spool

    directory = paths.spool_dir()
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    for name in names:
        if name.startswith(spool.CLAIM_PREFIX) and name.endswith(spool.CLAIM_SUFFIX):
            return True
    try:
        return os.path.getsize(spool.spool_file()) > 0
    except OSError:
        return False


def frame(conn, cfg, now=None, tracker=None):
    """Ingest what waits in the spool (so today's figures are current) and a slice of what
    changed in the tools' own logs (`llm-shim import`: a stat per file when nothing did), then
    read a frame."""
    from shim.telemetry import imports
    from shim.watch import frame as frame_mod

    if _spool_waiting():
        from shim.telemetry import ingest

        ingest.ingest(conn, cfg=cfg)
    imports.refresh(conn, cfg, bounded=True, what="watch", quiet=True)
    return frame_mod.collect(conn, cfg, now, tracker=tracker)


def watch(once=False, plain=False, interval=DEFAULT_INTERVAL, stream=None):
    from shim.config import compiled

    if not interval >= MIN_INTERVAL:
        raise errors.UsageError("watch", f"--interval {interval:g} is too short",
                                f"use {MIN_INTERVAL:g} seconds or more")
    stream = stream or sys.stdout
    cfg = compiled.load()
    tty = stream.isatty()
    use_rich = not plain and tty and _rich() is not None
    conn = open_store("watch")
    try:
        if once:
            _print_once(frame(conn, cfg), stream, use_rich)
            return exitcodes.OK
        try:
            if use_rich:
                return _live_rich(conn, cfg, interval, stream)
            return _live_plain(conn, cfg, interval, stream, tty)
        except KeyboardInterrupt:  # Ctrl-C is the usual way out of a live view, not an error
            return exitcodes.OK
    finally:
        conn.close()


def _print_once(data, stream, use_rich):
    from shim.watch import render

    if use_rich:
        from rich.console import Console

        Console(file=stream).print(render.rich_view(data))
    else:
        stream.write(render.plain(data))


def _live_plain(conn, cfg, interval, stream, tty):
    from shim.watch import blocks, render

    tracker = blocks.Tracker()
    with _Keys() as keys:
        while True:
            text = render.plain(frame(conn, cfg, tracker=tracker), live=keys.active)
            stream.write((CLEAR + text) if tty else (text + "\n"))
            stream.flush()
            if keys.wait_for_quit(interval):
                return exitcodes.OK


def _live_rich(conn, cfg, interval, stream):
    from rich.console import Console
    from rich.live import Live

    from shim.watch import blocks, render

    tracker = blocks.Tracker()
    console = Console(file=stream)
    with _Keys() as keys, Live(console=console, screen=True, auto_refresh=False) as live:
        while True:
            live.update(render.rich_view(frame(conn, cfg, tracker=tracker), live=keys.active),
                        refresh=True)
            if keys.wait_for_quit(interval):
                return exitcodes.OK


class _Keys:
    """Single key presses from a terminal on stdin (cbreak mode, restored on exit); `q` quits.
    Without a terminal on stdin only Ctrl-C stops the view."""

    def __init__(self):
        self.fd = None
        self.saved = None
        self.active = False

    def __enter__(self):
        try:
            fd = sys.stdin.fileno()
            if os.isatty(fd):
                import termios
                import tty

                self.saved = termios.tcgetattr(fd)
                tty.setcbreak(fd)
                self.fd = fd
                self.active = True
        except (OSError, ValueError, AttributeError):
            pass
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        return False

    def wait_for_quit(self, seconds):
        """Sleep `seconds`; True as soon as `q` is pressed."""
        if not self.active:
            time.sleep(seconds)
            return False
        import select

        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                key = os.read(self.fd, 32)
                if not key or b"q" in key.lower():
                    return True
