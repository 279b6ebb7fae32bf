"""Reading `.zst` logs: codex >= 0.137 compresses rollouts idle for 7 days to `.jsonl.zst`.

The standard library's `compression.zstd` where the Python has it (3.14+), else the optional
`zstandard` package (`pip install 'llm-shim[zstd]'`). With neither, a compressed rollout is
skipped and `llm-shim doctor` says so (`binding()` is None).
"""

CHUNK = 1 << 20


def binding():
    """"compression.zstd", "zstandard" or None: which decompressor this Python can use."""
    try:
        import compression.zstd  # noqa: F401  (Python 3.14+)

        return "compression.zstd"
    except ImportError:
        pass
    try:
        import zstandard  # noqa: F401

        return "zstandard"
    except ImportError:
        return None


def open_stream(path):
    """A binary file object of `path`'s decompressed bytes; ImportError when no binding."""
    try:
        from compression import zstd

        return zstd.open(path, "rb")
    except ImportError:
        pass
    import zstandard  # ImportError here: neither is available

    raw = open(path, "rb")
    try:
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
    except Exception:
        raw.close()
        raise


def tail_bytes(path, limit):
    """At most `limit` bytes from the end of the decompressed file, and whether it was cut."""
    kept = bytearray()
    cut = False
    with open_stream(path) as stream:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            kept += chunk
            if len(kept) > 2 * limit:
                del kept[:-limit]
                cut = True
    if len(kept) > limit:
        del kept[:-limit]
        cut = True
    return bytes(kept), cut
