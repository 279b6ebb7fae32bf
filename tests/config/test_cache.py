"""The compiled-config cache: hits, invalidation, corruption, concurrency, and no YAML when warm."""

import json
import os
import subprocess
import sys
import time
import zlib

import pytest

from shim import paths
from shim.config import compiled
from shim.errors import ConfigError

from tests.config.conftest import REPO


def _cache_path():
    return compiled.cache_file(compiled.discover())


def _write(path, text):
    with open(path, "w") as fh:
        fh.write(text)


def test_first_load_writes_the_cache_and_the_second_hits(user_file):
    _write(user_file, "default_agent: auto\n")
    first = compiled.load()
    assert compiled.last_status == "absent"
    assert os.path.isfile(_cache_path())
    assert os.stat(_cache_path()).st_mode & 0o777 == 0o600
    second = compiled.load()
    assert compiled.last_status == "hit"
    assert second == first
    assert second["default_agent"] == "auto"


def test_editing_a_file_is_seen_by_the_next_load(user_file):
    _write(user_file, "policies: {fallback: {max_attempts: 4}}\n")
    assert compiled.load()["policies"]["fallback"]["max_attempts"] == 4
    _write(user_file, "policies: {fallback: {max_attempts: 5}}\n")
    assert compiled.load()["policies"]["fallback"]["max_attempts"] == 5
    assert compiled.last_status == "stale"


def test_an_edit_keeping_size_and_mtime_is_still_seen(user_file):
    """Two writes within one clock tick: size and mtime match, the bytes do not."""
    _write(user_file, "policies: {fallback: {max_attempts: 4}}\n")
    before = os.stat(user_file)
    assert compiled.load()["policies"]["fallback"]["max_attempts"] == 4
    _write(user_file, "policies: {fallback: {max_attempts: 6}}\n")
    os.utime(user_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(user_file).st_size == before.st_size
    assert compiled.load()["policies"]["fallback"]["max_attempts"] == 6


def test_a_new_project_file_is_seen(user_file, tmp_path, monkeypatch, trust_project):
    compiled.load()
    (tmp_path / ".llm-shim.yaml").write_text("default_agent: auto\n")
    assert compiled.load()["default_agent"] == "default"  # not trusted yet
    trust_project(tmp_path)
    assert compiled.load()["default_agent"] == "auto"


def test_trusting_and_untrusting_are_cache_misses(user_file, tmp_path, trust_project):
    """Trust enters the key through the store's bytes: no stale verdict either way."""
    from shim.config import trust

    (tmp_path / ".llm-shim.yaml").write_text("default_agent: auto\n")
    trust_project(tmp_path)
    assert compiled.load()["default_agent"] == "auto"
    assert compiled.load()["default_agent"] == "auto" and compiled.last_status == "hit"
    trust.untrust(tmp_path / ".llm-shim.yaml")
    assert compiled.load()["default_agent"] == "default" and compiled.last_status == "stale"
    trust_project(tmp_path)
    assert compiled.load()["default_agent"] == "auto" and compiled.last_status == "stale"


def test_a_cache_hit_on_a_trusted_project_imports_no_hashlib(user_file, tmp_path, trust_project):
    (tmp_path / ".llm-shim.yaml").write_text("default_agent: auto\n")
    trust_project(tmp_path)
    compiled.load()
    code = ("import sys; from shim.config import compiled; cfg = compiled.load(); "
            "assert cfg['default_agent'] == 'auto', cfg['default_agent']; "
            "assert compiled.last_status == 'hit', compiled.last_status; "
            "bad = {'hashlib', 'yaml', 'json'} & set(sys.modules); assert not bad, bad")
    env = dict(os.environ, PYTHONPATH=REPO)
    done = subprocess.run([sys.executable, "-I", "-S", "-c", "import sys; sys.path[:0] = %r; %s"
                           % ([REPO] + [p for p in sys.path if p.endswith("site-packages")], code)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage", "bad-checksum", "marshal-of-a-list"])
def test_a_damaged_cache_is_rebuilt_never_trusted(user_file, damage):
    _write(user_file, "default_agent: auto\n")
    good = compiled.load()
    target = _cache_path()
    with open(target, "rb") as fh:
        blob = fh.read()
    damaged = {
        "truncate": blob[: len(blob) // 2],
        "empty": b"",
        "garbage": os.urandom(len(blob)),
        "bad-checksum": blob[:8] + blob[8:-1] + bytes([blob[-1] ^ 1]),
        "marshal-of-a-list": _framed([1, 2, 3]),
    }[damage]
    with open(target, "wb") as fh:
        fh.write(damaged)
    assert compiled.load() == good
    assert compiled.last_status == "corrupt"
    compiled.load()
    assert compiled.last_status == "hit"


def _framed(value):
    import marshal

    payload = marshal.dumps(value)
    return b"LSCC" + zlib.crc32(payload).to_bytes(4, "big") + payload


def test_a_cache_written_for_other_sources_is_stale(user_file):
    _write(user_file, "default_agent: auto\n")
    compiled.load()
    with open(_cache_path(), "wb") as fh:
        fh.write(_framed({"key": ("someone", "else"), "config": {"default_agent": "default"}}))
    assert compiled.load()["default_agent"] == "auto"
    assert compiled.last_status == "stale"


def test_an_unwritable_cache_dir_still_returns_the_config(isolated_env, user_file):
    _write(user_file, "default_agent: auto\n")
    with open(paths.cache_dir(), "w") as fh:  # a file where the directory should be
        fh.write("in the way")
    assert compiled.load()["default_agent"] == "auto"
    assert compiled.load()["default_agent"] == "auto"
    assert compiled.last_status == "unreadable"


def test_an_invalid_config_is_cached_as_invalid(user_file):
    _write(user_file, "default_agent: nobody\n")
    for expected_status in ("absent", "hit"):
        with pytest.raises(ConfigError) as info:
            compiled.load()
        assert compiled.last_status == expected_status
        assert info.value.problems == [f"{user_file}:1: default_agent: unknown agent 'nobody': not defined under agents"]
    _write(user_file, "default_agent: auto\n")
    assert compiled.load()["default_agent"] == "auto"


def test_no_temp_files_are_left_behind(user_file):
    for n in range(3):
        _write(user_file, f"policies: {{fallback: {{max_attempts: {n + 1}}}}}\n")
        compiled.load()
    leftovers = [f for f in os.listdir(paths.cache_dir()) if f.endswith(".tmp")]
    assert leftovers == []


PROBE = """
import sys
sys.path.insert(0, {repo!r})
from shim.config import compiled
cfg = compiled.load()
print(compiled.last_status, "yaml" in sys.modules, cfg["default_agent"])
"""


def _probe(cwd):
    proc = subprocess.run([os.path.realpath(sys.executable), "-I", "-S", "-c", PROBE.format(repo=REPO)],
                          cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_a_warm_load_imports_no_yaml(user_file, tmp_path):
    """Run with -I -S and only the repo on sys.path: yaml is not even importable on a hit."""
    _write(user_file, "default_agent: auto\n")
    compiled.load()
    assert _probe(str(tmp_path)) == ["hit", "False", "auto"]


def test_a_cold_load_does_import_yaml(user_file, tmp_path):
    """The control for the test above: a miss needs the builder (with the venv's site-packages)."""
    _write(user_file, "default_agent: auto\n")
    script = PROBE.replace("sys.path.insert(0, {repo!r})",
                           "sys.path[:0] = [{repo!r}] + " + repr([p for p in sys.path if p.endswith("site-packages")]))
    proc = subprocess.run([os.path.realpath(sys.executable), "-I", "-S", "-c", script.format(repo=REPO)],
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["absent", "True", "auto"], proc.stderr


WORKER = """
import json, sys, time
sys.path[:0] = {paths!r}
from shim.config import compiled
statuses, values = {{}}, set()
deadline = time.time() + 60
for _ in range({loads}):
    cfg = compiled.load()
    assert cfg["schema_version"] == 1 and cfg["_aliases"]["sonnet"] == "claude-sonnet-5", cfg
    values.add(cfg["policies"]["fallback"]["max_attempts"])
    statuses[compiled.last_status] = statuses.get(compiled.last_status, 0) + 1
print(json.dumps({{"statuses": statuses, "values": sorted(values)}}))
"""


def test_eight_processes_loading_while_the_file_changes_never_see_a_half_written_cache(user_file, tmp_path):
    """Writers replace the cache atomically, so a reader finds either a whole old or a whole new one.

    The config file itself is replaced atomically too (as editors do), so every load must return
    a valid config; any `corrupt` status would mean a reader saw a partly written cache file.
    """
    _write(user_file, "policies: {fallback: {max_attempts: 2}}\n")
    compiled.load()
    target = _cache_path()
    site = [p for p in sys.path if p.endswith("site-packages")]
    script = WORKER.format(paths=[REPO] + site, loads=25)
    env = dict(os.environ)
    workers = [subprocess.Popen([sys.executable, "-c", script], cwd=str(tmp_path), env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(8)]
    checked = 0
    value = 2
    while any(w.poll() is None for w in workers):
        value = 5 - value  # 2, 3, 2, 3, ...
        temp = user_file + ".tmp"
        _write(temp, f"policies: {{fallback: {{max_attempts: {value}}}}}\n" + "#" * (value * 7) + "\n")
        os.replace(temp, user_file)
        try:
            with open(target, "rb") as fh:
                blob = fh.read()
        except FileNotFoundError:
            blob = None
        if blob is not None:  # the file as any reader would see it at this instant
            assert blob[:4] == b"LSCC" and int.from_bytes(blob[4:8], "big") == zlib.crc32(blob[8:])
            checked += 1
        time.sleep(0.005)
    results = []
    for w in workers:
        out, err = w.communicate(timeout=60)
        assert w.returncode == 0, err
        results.append(json.loads(out))
    statuses = {}
    for r in results:
        for status, count in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
        assert set(r["values"]) <= {2, 3}
    assert sum(statuses.values()) == 8 * 25
    assert "corrupt" not in statuses and "unreadable" not in statuses, statuses
    assert checked > 0
