"""One module per command. Each exposes `add_parser(subparsers, common)` which registers the
command's parser and sets `func` to a thin handler `(args) -> int` that unpacks the Namespace into
a typed command function.
"""
