"""Which project `.llm-shim.yaml` files you trust: `llm-shim trust`, `untrust`, `trust --list`.

A `.llm-shim.yaml` comes with whatever repository you cloned, so it applies only once you have
trusted it, as direnv's `allow` and `mise trust` do: the store pins the file's resolved path
and the sha256 of its bytes, and any edit makes it untrusted again. The store is one text file
in the data dir (`paths.trust_file()`, mode 0600, replaced atomically), a line per file:
`<sha256 hex> <resolved path>`. It is read on the shim's hot path only as bytes (for the
compiled-config cache key, `compiled.load`); this module, with hashlib, runs on a cache miss
and in the commands.

The escape hatch, honoured only from the environment or a non-project config layer:
`LLM_SHIM_TRUST_PROJECT_FILES=1` (or `policies.trust_project_files: true`) applies every
project file without asking, `0` (`false`) none; a trusted file still only narrows
(shim.config.narrow).
"""

import hashlib
import os

from shim import paths, safefs
from shim.config import TRUST_ENV as ENV_VAR
CONFIG_KEY = ("policies", "trust_project_files")


def digest(data):
    """sha256 hex of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def resolved(path):
    return os.path.realpath(os.path.abspath(os.path.expanduser(path)))


def parse_store(data):
    """{resolved path: sha256} from the store's bytes (None or unreadable lines: nothing)."""
    found = {}
    for line in (data or b"").decode("utf-8", "surrogateescape").splitlines():
        sha, _, path = line.partition(" ")
        if len(sha) == 64 and path:
            found[path] = sha
    return found


def read_store(strict=False):
    """The store's bytes, or None when there is none (or it cannot be read). Read only when it
    is ours (shim.safefs.read_ours): a symlinked, foreign or group/world-writable store trusts
    nothing, with one warning; `strict` raises `safefs.Refused` instead (the commands)."""
    try:
        return safefs.read_ours(paths.trust_file())
    except safefs.Refused as exc:
        if strict:
            raise
        safefs.warn(exc, "no project file is trusted")
        return None
    except OSError:
        return None


def mode(environ, settings):
    """'all', 'none' or 'store': the environment wins over the config key of a user layer."""
    value = (environ or {}).get(ENV_VAR)
    if value in ("1", "0"):
        return "all" if value == "1" else "none"
    if settings is True:
        return "all"
    if settings is False:
        return "none"
    return "store"


def is_trusted(path, data, store):
    """True when `path` (resolved) with these bytes is pinned in the store's bytes."""
    return parse_store(store).get(resolved(path)) == digest(data)


def _write_store(entries):
    """Replace the store atomically (temp file 0600, fsync, rename) with `entries`."""
    target = paths.trust_file()
    paths.ensure_dir(os.path.dirname(target))
    text = "".join(f"{sha} {path}\n" for path, sha in sorted(entries.items()))
    return safefs.write_atomic(target, text.encode("utf-8", "surrogateescape"), durable=True)


class _Locked:
    """Serialise read-modify-write of the store (two `llm-shim trust` at once keep both)."""

    def __enter__(self):
        import fcntl

        target = paths.trust_file()
        paths.ensure_dir(os.path.dirname(target))
        self.fd = safefs.open_file(target + ".lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)  # closing releases the lock


def trust(path):
    """Pin `path` with its current bytes; returns (resolved path, sha256)."""
    real = resolved(path)
    if "\n" in real:
        raise ValueError("a path with a newline cannot be trusted")
    with open(real, "rb") as fh:
        sha = digest(fh.read())
    with _Locked():
        entries = parse_store(read_store(strict=True))
        entries[real] = sha
        _write_store(entries)
    return real, sha


def untrust(path):
    """Forget `path`; True when it was in the store."""
    real = resolved(path)
    with _Locked():
        entries = parse_store(read_store(strict=True))
        if entries.pop(real, None) is None:
            return False
        _write_store(entries)
    return True


def entries():
    """[(resolved path, sha256, state)] with state 'trusted', 'changed' or 'missing'."""
    out = []
    for path, sha in sorted(parse_store(read_store(strict=True)).items()):
        try:
            with open(path, "rb") as fh:
                state = "trusted" if digest(fh.read()) == sha else "changed"
        except OSError:
            state = "missing"
        out.append((path, sha, state))
    return out
