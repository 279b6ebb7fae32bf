"""Chromium from the system packages, headless: load a page, return its DOM after the
scripts ran, or save a screenshot. No browser download (the tests run offline).

`--virtual-time-budget` lets the page's timers (the dashboard's refresh) run before the DOM
is dumped, without waiting that long in real time.
"""

import os
import shutil
import subprocess
import tempfile

NAMES = ("chromium", "chromium-browser", "google-chrome")


def find():
    """The browser's path, or None."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args, timeout=90):
    binary = find()
    with tempfile.TemporaryDirectory(prefix="llm-shim-chromium-") as profile:
        cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-extensions", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, HOME=profile))
    return done


def dump_dom(url, virtual_ms=None):
    """The serialized DOM of `url` after its scripts ran (`virtual_ms` of virtual time)."""
    args = ["--dump-dom"]
    if virtual_ms:
        args.append(f"--virtual-time-budget={int(virtual_ms)}")
    done = _run([*args, url])
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def screenshot(url, path, width=1280, height=1600, virtual_ms=2000):
    """Save a PNG of `url` at the window size given."""
    done = _run([f"--screenshot={path}", f"--window-size={width},{height}",
                 "--hide-scrollbars", f"--virtual-time-budget={int(virtual_ms)}", url])
    if done.returncode != 0 or not os.path.exists(path):
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return path
