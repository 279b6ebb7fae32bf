"""The import's worker processes must not outlive it, nor hold its lock.

Workers are forked (imports._parsed): a fork copies every open descriptor, O_CLOEXEC or not,
so each worker held `import.lock`'s open file and with it the flock. When the import was
killed, the workers (now children of init) sat in their queue's read for minutes and the next
import waited on the lock all that time. So each worker closes the lock descriptors it
inherited (the parent's copy keeps the lock), asks Linux to kill it when its parent dies
(prctl PR_SET_PDEATHSIG), and checks its parent before each file elsewhere.
"""

import os
import sys

PR_SET_PDEATHSIG = 1
lock_fds = set()   # descriptors of import.lock this process holds (imports._lock)
_parent = None


def init_args():
    """The arguments of `init` for a worker this process starts: its pid and lock descriptors."""
    return (os.getpid(), tuple(lock_fds))


def init(parent, fds):
    """In each new worker: drop the inherited lock, die with the parent."""
    global _parent
    _parent = parent
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    lock_fds.clear()
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the prctl took effect
        os._exit(1)


def read_job(job):
    """imports.read_job in a worker, unless the import that asked for it is gone."""
    if _parent is not None and os.getppid() != _parent:
        os._exit(1)
    from shim.telemetry import imports

    return imports.read_job(job)


def preload(*modules):
    """Import `modules` and what init needs here, before the workers are forked: they share
    them instead of each importing them again."""
    import importlib

    for name in modules + (("ctypes",) if sys.platform.startswith("linux") else ()):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _die_with_parent():
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError, ImportError):
        pass  # the getppid() checks still end the worker at its next file
