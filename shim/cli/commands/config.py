"""`llm-shim config init|validate|show|path`: write, check and explain the configuration."""

import json
import os
import sys

from shim import exitcodes, paths
from shim.errors import ShimError, UsageError


def add_parser(subparsers, common):
    from shim.cli.common import add_command, print_help
    from shim.cli.main import Parser

    p = add_command(
        subparsers, common, "config", help="create, check and show the configuration",
        description="Create, check and show the configuration. Sources, highest precedence "
                    "first: $LLM_SHIM_CONFIG, .llm-shim.yaml in the current directory or an "
                    "ancestor, the user file, the embedded default.",
        examples=["llm-shim config init", "llm-shim config validate",
                  "llm-shim config show --origin", "llm-shim config path"])
    sub = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND", parser_class=Parser)
    p.set_defaults(func=lambda args: print_help(p))

    init = add_command(
        sub, common, "init", help="write a commented user config file",
        description="Write a commented user configuration (everything but schema_version "
                    "commented out) whose first line points editors at the JSON Schema.",
        examples=["llm-shim config init", "llm-shim config init --force",
                  "llm-shim config init --path ./.llm-shim.yaml"])
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.add_argument("--path", metavar="FILE", default=None,
                      help=f"where to write (default: the user file, {_short(paths.user_config_file())})")
    init.set_defaults(func=lambda args: cmd_init(path=args.path, force=args.force))

    validate = add_command(
        sub, common, "validate", help="check a config file, or every discovered one merged",
        description="Check configuration and print every problem as FILE:LINE: key.path: "
                    "message. Exit 0 when valid, 1 when not. FILE is checked merged over the "
                    "embedded default; without FILE the discovered sources are checked merged.",
        examples=["llm-shim config validate", "llm-shim config validate ./.llm-shim.yaml"])
    validate.add_argument("file", nargs="?", metavar="FILE", help="the file to check")
    validate.set_defaults(func=lambda args: cmd_validate(args.file))

    show = add_command(
        sub, common, "show", help="print the effective (merged) configuration",
        description="Print the effective configuration: every source merged, defaults filled.",
        examples=["llm-shim config show", "llm-shim config show --origin",
                  "llm-shim config show --json | jq .models"])
    show.add_argument("--origin", action="store_true", help="annotate each entry with the file it came from")
    show.add_argument("--json", action="store_true", help="print JSON (with the _sources, _aliases bookkeeping)")
    show.set_defaults(func=lambda args: cmd_show(origin=args.origin, as_json=args.json))

    where = add_command(
        sub, common, "path", help="print the configuration sources and the cache file",
        description="Print the configuration sources in precedence order, then the cache file.",
        examples=["llm-shim config path"])
    where.set_defaults(func=lambda args: cmd_path())


def _short(path):
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home != "/" and path.startswith(home + os.sep) else path


def cmd_init(path=None, force=False, stdout=None):
    """Write the commented user config and, next to the user config, the JSON Schema its first
    line points editors at (refreshed on every init, so `--force` after an upgrade updates it)."""
    from shim.config import schema, template

    stdout = stdout or sys.stdout
    target = os.path.abspath(os.path.expanduser(path)) if path else paths.user_config_file()
    if os.path.exists(target) and not force:
        raise ShimError(f"config init {target}", "the file already exists",
                        "pass --force to overwrite it, or edit it")
    if os.path.isdir(target):
        raise UsageError(f"config init {target}", "is a directory", "pass a file path to --path")
    schema_file = schema.user_schema_file()
    for directory in (os.path.dirname(target), os.path.dirname(schema_file)):
        blocker = _not_a_directory(directory)
        if blocker is not None:
            raise ShimError(f"config init {target}", f"{blocker} is not a directory",
                            _blocker_hint(blocker))
    try:
        schema.write_user_schema(schema_file)
    except OSError as exc:
        raise ShimError(f"config init {schema_file}", exc.strerror or str(exc),
                        "check the permissions of the config directory "
                        "(`llm-shim config path` shows it)") from None
    text = template.render(schema.schema_uri(schema_file))
    from shim.install import rcfiles

    try:
        paths.ensure_dir(os.path.dirname(target))
        rcfiles.write_bytes(target, text.encode("utf-8"))
    except OSError as exc:
        raise ShimError(f"config init {target}", exc.strerror or str(exc),
                        "choose another place with --path") from None
    stdout.write(f"wrote {target}\nwrote {schema_file} (the JSON Schema its first line names)\n")
    return exitcodes.OK


def _not_a_directory(directory):
    """The first existing path at or above `directory` that is not a directory, or None."""
    current = os.path.abspath(directory)
    while True:
        if os.path.lexists(current) and not os.path.isdir(current):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _blocker_hint(blocker):
    home = paths.home_override()
    if home and (home == blocker or home.startswith(blocker + os.sep)):
        return f"${paths.HOME_ENV} must name a directory: point it at one, or unset it"
    return "move that file away, or choose another place with --path"


def cmd_validate(file=None, stdout=None, stderr=None):
    from shim.config import build, compiled

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if file:
        checked = [os.path.abspath(file)]
        problems = build.validate_file(file)
    else:
        sources = compiled.discover()
        checked = [path for path, _ in sources]
        problems = build.check_sources(sources)
    if problems:
        for line in problems:
            stdout.write(line + "\n")
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        stderr.write(f"llm-shim: config validate: {count}; fix each FILE:LINE above\n")
        return exitcodes.ERROR
    for path in checked:
        stdout.write(f"ok: {path}\n")
    if not file:
        _say_untrusted(sources, stderr)
    return exitcodes.OK


def _say_untrusted(sources, stderr):
    """Valid is not applied: say so for a project file the shims ignore (docs/security.md)."""
    from shim import errors
    from shim.config import build

    try:  # compiled as a shim would (trust store, environment, your trust_project_files)
        compiled_sources = build.compile_sources(sources)["_sources"]
    except Exception:
        return
    for source in compiled_sources:
        if source.get("trust") == "untrusted":
            path = source["path"]
            errors.warn(f"project config {path}", "not trusted, so not applied",
                        f"`llm-shim trust {path}` applies it (docs/security.md)", stream=stderr)


def cmd_show(origin=False, as_json=False, stdout=None):
    from shim.config import compiled, render

    stdout = stdout or sys.stdout
    config = compiled.load()
    if as_json:
        shown = dict(config) if origin else {k: v for k, v in config.items() if k != "_origin"}
        stdout.write(json.dumps(shown, indent=2) + "\n")
    else:
        stdout.write(render.to_yaml(config, with_origin=origin))
    return exitcodes.OK


def cmd_path(stdout=None):
    from shim.config import compiled

    stdout = stdout or sys.stdout
    sources = compiled.discover()
    layers = {layer for _, layer in sources}
    rows = []
    for path, layer in sources:
        note = "" if os.path.isfile(path) else "  (missing)"
        rows.append((layer, path + note))
    if "user" not in layers:  # say where it would be, in its place in the order
        rows.insert(len([r for r in rows if r[0] in ("env", "project")]),
                    ("user", paths.user_config_file() + "  (not created; `llm-shim config init` writes it)"))
    rows.append(("cache", compiled.cache_file(sources)))
    for layer, text in rows:
        stdout.write(f"{layer:<8} {text}\n")
    return exitcodes.OK
