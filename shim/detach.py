"""Start one of our modules in a detached process that nobody waits for (spool ingest, team
sync, grammar relearn): its own session, stdio on /dev/null, the same code the shim runs.

Hot path: imports only os and sys (the module loads only when something is spawned).
"""

import os
import sys


def spawn(module, args=()):
    """Run `module.main()` with `sys.argv[1:] == args` in a detached interpreter."""
    import shim

    root = os.path.dirname(os.path.dirname(os.path.abspath(shim.__file__)))
    code = ("import sys; sys.path[:0] = %r; from %s import main; main()"
            % ([root] + [p for p in sys.path if p.endswith("site-packages")], module))
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.posix_spawn(sys.executable, [sys.executable, "-I", "-S", "-c", code] + list(args),
                       dict(os.environ),
                       file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0),
                                     (os.POSIX_SPAWN_DUP2, devnull, 1),
                                     (os.POSIX_SPAWN_DUP2, devnull, 2)],
                       setsid=True)
    finally:
        os.close(devnull)
