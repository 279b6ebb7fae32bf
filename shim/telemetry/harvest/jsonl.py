"""One JSON log line -> its object, the way `json.loads` reads it, with less overhead.

`json.loads(bytes)` sniffs the encoding and goes through three Python frames per line; an
import decodes hundreds of thousands of lines. Here the line is decoded as UTF-8 and handed to
the C scanner directly; anything that path does not accept exactly as `json.loads` would
(leading whitespace, trailing data, another encoding, no C scanner) goes through
`json.loads` itself, so the result is always json.loads's result or None.

`fast_decoder()` is what `llm-shim import` decodes Claude transcripts with: orjson when it is
installed (the `fast` extra; ~2.3 µs a Claude message line against ~5), else `decode`. Where
orjson refuses a line (NaN, Infinity, 1e400, lone surrogates, a BOM, nesting past 1024) it
goes through `decode`. Where both accept one, the result is json's but for one thing: an
integer literal beyond 64 bits comes back as a float (so `fast_decoder` says whether it
reads them so, and the caller checks the values it formats). A line that could be nested 800 deep (1,600 bytes or more, and 800
`[` and `{` or more) goes through `decode` too, so json's own nesting limit (the
interpreter's recursion limit, ~1,000 less the stack) still decides it.
tests/telemetry/test_jsonl.py compares the two on edge cases and mutated transcript lines.
"""

import json
import json.decoder
import json.scanner

_scan = (json.scanner.c_make_scanner(json.JSONDecoder())
         if json.scanner.c_make_scanner is not None else None)
_TRAILING = " \t\n\r"  # json's own whitespace


def decode(line):
    """The decoded object of `line` (bytes), or None when it is not one JSON value."""
    if _scan is not None:
        try:
            text = line.decode("utf-8", "surrogatepass")
            obj, end = _scan(text, 0)
            if end == len(text) or not text[end:].strip(_TRAILING):
                return obj
        except (ValueError, StopIteration):
            pass
    try:
        return json.loads(line)
    except ValueError:
        return None


_DEEP = 800   # a valid line 1,600 bytes long or shorter is nested at most this deep


def fast_decoder():
    """(a function equal to `decode` but for the integers, whether it reads integers beyond
    64 bits as floats): orjson's when it can be imported, else (decode, False)."""
    try:
        from orjson import loads
    except ImportError:
        return decode, False
    deep = _DEEP

    def fast_decode(line):
        if len(line) < 2 * deep or line.count(b"[") + line.count(b"{") < deep:
            try:
                return loads(line)
            except ValueError:  # orjson.JSONDecodeError: json may still accept it
                pass
        return decode(line)

    return fast_decode, True
