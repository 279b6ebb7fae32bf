"""A private network namespace holding only loopback, shared by the stub and the real CLIs.

Why this design: the stub has to be reachable from the CLIs, and nothing else may be. So one
namespace holds both. We create it from a short-lived *thread* (network namespaces are per
thread on Linux, so the pytest process itself stays in the host namespace), bring `lo` up there
with an ioctl, and keep the namespace alive through a file descriptor. Code that must run inside
(binding the stub's listening socket) runs in a thread that `setns()`es into it first; a socket
stays in the namespace it was created in, whichever thread later serves it. Commands enter it
with `nsenter --net=<fd>`, which exec()s the command itself: no extra process stays in between,
so exit codes, signals and TTYs pass through untouched.

Needs CAP_SYS_ADMIN (root, or a container that grants it). Without it `NetNamespace.create()`
raises NetnsUnavailable with the reason, and the acceptance tests skip printing it.
"""

import ctypes
import errno
import fcntl
import os
import shutil
import socket
import struct
import threading

CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


class NetnsUnavailable(RuntimeError):
    """This machine cannot give us a private network namespace (reason in the message)."""


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _loopback_up():
    """`ip link set lo up` without needing iproute2: SIOCSIFFLAGS on a throwaway socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh22x", b"lo", 0)
        flags = struct.unpack("16sh22x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | _IFF_UP))


def _in_thread(body):
    """Run body() in a fresh thread and return its result (re-raising its exception)."""
    outcome = {}

    def target():
        try:
            outcome["value"] = body()
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="netns")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class NetNamespace:
    """One loopback-only network namespace: call(fn) runs Python in it, command() runs argv."""

    def __init__(self):
        self.fd = None
        self.nsenter = None

    def create(self):
        self.nsenter = shutil.which("nsenter") or (
            "/usr/bin/nsenter" if os.path.exists("/usr/bin/nsenter") else None)
        if self.nsenter is None:
            raise NetnsUnavailable("nsenter (util-linux) is not installed")

        def make():
            libc = _libc()
            _check(libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
            _loopback_up()
            return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)

        try:
            self.fd = _in_thread(make)
        except OSError as exc:
            hint = " (needs root or CAP_SYS_ADMIN)" if exc.errno in (errno.EPERM, errno.EACCES) else ""
            raise NetnsUnavailable(f"cannot create a private network namespace: {exc}{hint}") from exc
        return self

    def call(self, fn, *args, **kwargs):
        """fn(*args, **kwargs) in a thread inside the namespace; sockets it opens stay there."""

        def inside():
            _check(_libc().setns(self.fd, CLONE_NEWNET), "setns(CLONE_NEWNET)")
            return fn(*args, **kwargs)

        return _in_thread(inside)

    @property
    def path(self):
        """A path naming the namespace, valid while we hold the fd (for nsenter, ip netns...)."""
        return f"/proc/{os.getpid()}/fd/{self.fd}"

    def command(self, argv):
        """argv, prefixed so that it runs inside the namespace (resolved via the child's PATH)."""
        return [self.nsenter, f"--net={self.path}", "--", *argv]

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
