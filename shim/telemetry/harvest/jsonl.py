"""One JSON log line -> its object, the way `json.loads` reads it, with less overhead.

`json.loads(bytes)` sniffs the encoding and goes through three Python frames per line; an
import decodes hundreds of thousands of lines. Here the line is decoded as UTF-8 and handed to
the C scanner directly; anything that path does not accept exactly as `json.loads` would
(leading whitespace, trailing data, another encoding, no C scanner) goes through
`json.loads` itself, so the result is always json.loads's result or None.
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
