"""The connection to the team store: psycopg 3 imported lazily, short timeouts on everything.

Every connection gets `connect_timeout` and `statement_timeout`/`lock_timeout` of
`team.timeout` seconds (default 2), so a store that is down or slow costs the caller at most
about that long. A failed connection marks the store *down* for `DOWN_HOLD` seconds (a file's
mtime in the cache directory): shims and background syncs skip it meanwhile instead of each
waiting for the timeout again. `llm-shim sync` and `report --team` always try.
"""

import math
import os
import time

from shim import errors, paths, safefs

DOWN_FILE = "team-down"
DOWN_HOLD = 15.0
MACHINE_FILE = "team-machine-id"


class Unreachable(errors.ShimError):
    """The team store could not be reached (or answered too slowly) within the timeout."""

    exit_code = 75  # EX_TEMPFAIL: the next sync can work


def psycopg():
    """The psycopg module; a one-line error naming the extra when it is missing."""
    try:
        import psycopg as module
    except ImportError:
        raise errors.ShimError(
            "team", "team: is configured but psycopg 3 is not installed",
            "install the extra into llm-shim's environment: pip install 'llm-shim[team]'") \
            from None
    return module


def connect(settings, *, migrate=True, honour_down=False):
    """An autocommit psycopg connection to the team store with the schema up to date.

    Raises Unreachable when the server cannot be reached in time; other database errors
    (authentication, permissions) as ShimError with the server's message."""
    pg = psycopg()
    if honour_down and recently_down():
        raise Unreachable("team", f"{describe(settings)} was unreachable moments ago",
                          "skipped for now; `llm-shim sync` retries at once")
    ms = int(settings["timeout"] * 1000)
    params = pg.conninfo.conninfo_to_dict(settings["dsn"])
    ours = f"-c statement_timeout={ms} -c lock_timeout={ms} " \
           f"-c idle_in_transaction_session_timeout={max(ms * 10, 10000)}"
    params["options"] = f"{params.get('options') or ''} {ours}".strip()
    params.setdefault("connect_timeout", max(2, math.ceil(settings["timeout"])))
    params.setdefault("application_name", "llm-shim")
    try:
        conn = pg.connect(autocommit=True, **params)
    except pg.Error as exc:
        error = classify(exc, settings)
        if isinstance(error, Unreachable):
            mark_down()
        raise error from None
    try:
        if migrate:
            from shim.team import schema

            schema.migrate(conn)
    except pg.Error as exc:
        conn.close()
        raise classify(exc, settings) from None
    except BaseException:
        conn.close()
        raise
    mark_up()
    return conn


def classify(exc, settings):
    """A ShimError for a psycopg error: Unreachable for connection trouble and timeouts."""
    pg = psycopg()
    text = _first_line(exc)
    where = describe(settings)
    auth = getattr(pg.errors, "InvalidPassword", ()), \
        getattr(pg.errors, "InvalidAuthorizationSpecification", ())
    if isinstance(exc, auth):
        return errors.ShimError("team", f"{where}: {text}",
                                "check the user and password in team.dsn (or ~/.pgpass)")
    busy = (getattr(pg.errors, "LockNotAvailable", ()), getattr(pg.errors, "QueryCanceled", ()))
    if isinstance(exc, busy):
        # The store answers but did not finish within team.timeout (another admitter holds the
        # team's lock, or the server is overloaded): not "unreachable", and worth a warning.
        return errors.ShimError("team", f"{where} is busy: {text}",
                                f"the statement did not finish within team.timeout "
                                f"({settings['timeout']:g} s)")
    if isinstance(exc, pg.OperationalError):
        return Unreachable("team", f"{where} is unreachable: {text}",
                           "local work goes on; rows are pushed by the next sync")
    if isinstance(exc, pg.errors.InsufficientPrivilege):
        return errors.ShimError("team", f"{where}: {text}",
                                "the team.dsn user needs CREATE on the database the first time "
                                "(llm-shim creates and migrates its tables) and "
                                "SELECT/INSERT/UPDATE/DELETE on them")
    return errors.ShimError("team", f"{where}: {type(exc).__name__}: {text}",
                            "rerun with LLM_SHIM_DEBUG=1 for details")


def is_unreachable(exc):
    return isinstance(exc, Unreachable)


def _first_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def describe(settings):
    """`team 'core' at db.example:5432/llm_shim`, without the password."""
    return f"team store '{settings['name']}' at {target(settings)}"


def target(settings):
    """host:port/dbname of the dsn (no credentials): where rows are pushed."""
    try:
        params = psycopg().conninfo.conninfo_to_dict(settings["dsn"])
    except Exception:
        return "?"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    dbname = params.get("dbname") or params.get("user") or "?"
    return f"{host}:{port}/{dbname}"


# --- down marker ---------------------------------------------------------------------------------

def _down_path():
    return os.path.join(paths.cache_dir(), DOWN_FILE)


def recently_down(now=None):
    try:
        st = os.stat(_down_path())
    except OSError:
        return False
    now = time.time() if now is None else now
    return now - st.st_mtime < DOWN_HOLD


def mark_down():
    try:
        paths.ensure_dir(paths.cache_dir())
        fd = safefs.open_file(_down_path(), os.O_WRONLY | os.O_CREAT)
        os.close(fd)
        os.utime(_down_path(), None)
    except OSError:
        pass


def mark_up():
    try:
        os.unlink(_down_path())
    except OSError:
        pass


# --- this machine --------------------------------------------------------------------------------

def machine_id():
    """A random id naming this machine (this data directory) in the team store, kept in the
    data directory: host names repeat and change, an LLM_SHIM_HOME is one member's store."""
    path = os.path.join(paths.data_dir(), MACHINE_FILE)
    try:
        with open(path, encoding="ascii") as fh:
            value = fh.read().strip()
        if value:
            return value
    except OSError:
        pass
    paths.ensure_dir(paths.data_dir())
    value = os.urandom(8).hex()
    if not safefs.create_once(path, (value + "\n").encode("ascii")):
        with open(path, encoding="ascii") as fh:  # a concurrent writer won: its id it is
            return fh.read().strip()
    return value
