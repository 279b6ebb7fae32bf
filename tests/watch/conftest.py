"""Fixtures for the watch and alerts tests: the real shims in front of the fake CLIs of
tests/support/shim_env.py (ShimEnv), and a loopback HTTP server that records what is POSTed
to it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.shim_env import TEN_CENTS_MODEL, ShimEnv  # noqa: F401


@pytest.fixture
def shim_env(tmp_path, fake_cli, isolated_env):
    env = ShimEnv(tmp_path, fake_cli, isolated_env["shim_home"])
    env.install("claude")
    return env


class Hook:
    """A webhook on 127.0.0.1: `bodies` holds every JSON document POSTed, `status` is the
    HTTP status it answers with."""

    def __init__(self):
        self.bodies = []
        self.status = 200
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with hook.lock:
                    hook.bodies.append({"type": self.headers.get("Content-Type"),
                                        "doc": json.loads(body)})
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    server = Hook()
    yield server
    server.close()
