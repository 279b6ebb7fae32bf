"""The compiled config, as the shim's hot path reads it: one marshal file, no YAML.

`load()` reads every configuration source (they are small), builds the cache key from their
paths, sizes, mtimes and a CRC of the bytes read, and returns the cached compiled config when
the key matches. On a miss (absent, stale, corrupt or unreadable cache) it imports the slow
builder, compiles from those same bytes, and replaces the cache atomically (private temp file in
the cache dir + `os.replace`), so concurrent shims either see the old file or the new one.
The CRC makes an edit that keeps size and mtime (same clock tick) a miss too.

A project `.llm-shim.yaml` applies only once trusted (shim.config.trust). Whether it is follows
from its bytes and the trust store's, so when there is a project file the key also holds the
store's bytes, $LLM_SHIM_TRUST_PROJECT_FILES and the project file's inode and ctime (which no
one but root can set back): `llm-shim trust`/`untrust` and any edit are misses, and a hit
needs no sha256. The warnings the builder left in `_notices` (a file not trusted, keys it may
not set) are printed at most once an hour per file and content (`_print_notices`).

Hot path: imports only os, sys, marshal, zlib and the shim's light modules.
"""

import marshal
import os
import stat
import sys
import time
import zlib

from shim import __version__, paths, safefs
from shim.config import PROJECT_FILE, TRUST_ENV  # noqa: F401  (compiled.PROJECT_FILE for callers)

ENV_VAR = "LLM_SHIM_CONFIG"
NOTICE_SECONDS = 3600  # a notice about a project file is repeated at most this often
# Bump when the compiled shape changes; old caches then miss instead of being misread.
FORMAT = 3  # 2: a cached error carries policies.on_error; 3: _notices, a project file's trust
_MAGIC = b"LSCC"  # llm-shim compiled config
_HEADER = 8       # magic + CRC32 of the marshalled payload

# Why the last load() in this process did what it did: "hit", "absent", "stale", "corrupt",
# "unreadable". Tests and benchmarks read it.
last_status = None


def discover(cwd=None, environ=None):
    """[(path, layer)], highest precedence first: env, project, user, default.

    The env file is listed even when missing (load then reports it); the user file only if it
    exists. `environ` only affects $LLM_SHIM_CONFIG: directories come from `shim.paths`, which
    reads the process environment.
    """
    env = os.environ if environ is None else environ
    sources = []
    chosen = env.get(ENV_VAR)
    if chosen:
        sources.append((os.path.abspath(os.path.expanduser(chosen)), "env"))
    project = find_project_file(cwd)
    if project:
        sources.append((project, "project"))
    user = paths.user_config_file()
    if os.path.exists(user):  # a directory too: reading it is then the config error it is
        sources.append((user, "user"))
    sources.append((paths.embedded_default_config(), "default"))
    unique = []
    seen = set()
    for path, layer in sources:  # the same file twice (e.g. $LLM_SHIM_CONFIG = the user file)
        if path not in seen:
            seen.add(path)
            unique.append((path, layer))
    return unique


def find_project_file(cwd=None):
    """`.llm-shim.yaml` in `cwd` or its nearest ancestor, or None."""
    try:
        directory = os.path.abspath(cwd) if cwd else os.getcwd()
    except OSError:  # the working directory was deleted
        return None
    while True:
        candidate = os.path.join(directory, PROJECT_FILE)
        try:
            mode = os.stat(candidate).st_mode
        except (OSError, ValueError):
            mode = 0
        if stat.S_ISREG(mode):
            return candidate
        if stat.S_ISDIR(mode):
            from shim import errors

            errors.warn(f"config {candidate}", "is a directory, not a file, so it is ignored",
                        f"remove it or put the project's settings in a file named {PROJECT_FILE}")
            return None
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def cache_file(sources):
    """`<cache dir>/config-<crc32 of the source paths>.marshal`: one cache per set of sources."""
    joined = "\0".join(path for path, _ in sources).encode("utf-8", "surrogateescape")
    return os.path.join(paths.cache_dir(), "config-%08x.marshal" % zlib.crc32(joined))


def read_sources(sources):
    """({path: bytes}, key) for the sources; a file that cannot be read gets None and (path, -1, -1, errno)."""
    contents = {}
    key = [FORMAT, __version__, sys.hexversion]
    for path, layer in sources:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            contents[path] = None
            key.append((path, -1, -1, exc.errno))
            continue
        try:
            st = os.fstat(fd)
            chunks = []
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError as exc:
            contents[path] = None
            key.append((path, -1, -1, exc.errno))
            continue
        finally:
            os.close(fd)
        data = b"".join(chunks)
        contents[path] = data
        key.append((path, st.st_size, st.st_mtime_ns, zlib.crc32(data))
                   + ((st.st_ino, st.st_ctime_ns) if layer == "project" else ()))
    return contents, tuple(key)


def trust_state(sources, environ):
    """What decides whether the project file is trusted ({"env", "store"}), or None when
    there is no project file (then nothing more is read)."""
    if not any(layer == "project" for _, layer in sources):
        return None
    env = os.environ if environ is None else environ
    store = None
    try:
        store = safefs.read_ours(paths.trust_file())
    except safefs.Refused as exc:
        safefs.warn(exc, "no project file is trusted")
    except OSError:
        pass
    return {"env": env.get(TRUST_ENV), "store": store}


def load(cwd=None, environ=None):
    """The compiled config for `cwd` (default: the process's); see docs/internals.md.

    Raises shim.errors.ConfigError when the configuration is invalid. That verdict is cached
    under the same key, so a broken file costs one compile, not one per call.
    """
    global last_status
    sources = discover(cwd, environ)
    contents, key = read_sources(sources)
    trust = trust_state(sources, environ)
    if trust is not None:
        key += ((trust["env"], trust["store"]),)
    target = cache_file(sources)
    entry, last_status = _read_cache(target, key)
    if entry is not None:
        if "error" in entry:
            raise _error(entry["error"])
        if entry["config"].get("_notices"):
            _print_notices(entry["config"]["_notices"])
        return entry["config"]
    from shim.config import build
    from shim.errors import ConfigError

    try:
        config = build.compile_sources(sources, {p: d for p, d in contents.items() if d is not None},
                                       trust=trust)
    except ConfigError as exc:
        # on_error as the layers that parse set it, so the next call can honour `block`
        # without YAML (docs/internals.md).
        _write_cache(target, {"key": key, "error": (exc.what, exc.why, exc.hint, exc.problems,
                                                    exc.on_error)})
        raise
    _write_cache(target, {"key": key, "config": config})
    build.remove_stale_temp_files(os.path.dirname(target))
    if config.get("_notices"):
        _print_notices(config["_notices"])
    return config


def notice_stamp(stamp_id):
    """The file whose mtime says when the notice `stamp_id` was last printed."""
    digest = zlib.crc32(stamp_id.encode("utf-8", "surrogateescape"))
    return os.path.join(paths.cache_dir(), "notices", "%08x-%d" % (digest, len(stamp_id)))


def _print_notices(notices, now=None):
    """Print each notice's lines unless its stamp is younger than NOTICE_SECONDS, so a busy
    pipeline sees a project file's warning once an hour, not once a call. The stamp is created
    with O_EXCL, so of many shims starting together one prints. Never raises."""
    now = time.time() if now is None else now
    for stamp_id, lines in notices:
        stamp = notice_stamp(stamp_id)
        refused = None
        try:
            try:
                paths.ensure_dir(os.path.dirname(stamp))
                os.close(safefs.open_file(stamp, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                fd = safefs.open_file(stamp, os.O_RDONLY)  # never a link's target
                try:
                    if now - os.fstat(fd).st_mtime < NOTICE_SECONDS:
                        continue
                    os.utime(fd, (now, now))
                finally:
                    os.close(fd)
        except safefs.Refused as exc:
            refused = exc  # printed every time, and said why
        except OSError:
            pass  # no stamp: print every time rather than never
        try:
            sys.stderr.write("".join(line + "\n" for line in lines))
            sys.stderr.flush()
            if refused is not None:
                safefs.warn(refused, "the notice above is printed on every call, not hourly")
        except (OSError, ValueError, AttributeError):
            pass


def _error(fields):
    from shim.errors import ConfigError

    what, why, hint, problems = fields[:4]
    on_error = fields[4] if len(fields) > 4 else None
    return ConfigError(what, why, hint, problems=problems, on_error=on_error)


def _read_cache(target, key):
    try:
        fd = os.open(target, os.O_RDONLY | safefs.CLOEXEC | safefs.NOFOLLOW)  # a link: a miss
    except FileNotFoundError:
        return None, "absent"
    except OSError:
        return None, "unreadable"
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 262144)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        return None, "unreadable"
    finally:
        os.close(fd)
    blob = b"".join(chunks)
    payload = blob[_HEADER:]
    if (len(blob) <= _HEADER or blob[:4] != _MAGIC
            or int.from_bytes(blob[4:_HEADER], "big") != zlib.crc32(payload)):
        return None, "corrupt"
    try:
        entry = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None, "corrupt"
    if not isinstance(entry, dict) or not (isinstance(entry.get("config"), dict) or "error" in entry):
        return None, "corrupt"
    if entry.get("key") != key:
        return None, "stale"
    return entry, "hit"


def _write_cache(target, entry):
    """Replace the cache file atomically; any failure just leaves it uncached."""
    payload = marshal.dumps(entry)
    blob = _MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload
    try:
        paths.ensure_dir(os.path.dirname(target))
        safefs.write_atomic(target, blob)
    except safefs.Refused as exc:
        safefs.warn(exc, "the compiled configuration is not cached")
        return False
    except OSError:
        return False
    return True
