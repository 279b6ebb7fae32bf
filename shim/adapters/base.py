"""Shared argv machinery for the adapters: a tokenizer that walks argv the way the CLIs' own
parsers do (commander for claude, clap for codex, click for llm), plus the Request builder and
the in-place model rewrite.

Hot path: imports nothing. Each adapter describes its flags in a "spec" dict:

    {"arity": {"--model": 1, "-r": "?", "--allowedTools": "*", "-o": 2, ...},
     "short_equals": True}   # clap reads `-m=X` as X; click and commander read it as "=X"

Flags in neither "arity" nor "booleans" are unknown: `unknown_flag` names the first, and the
adapters pass such argv through untouched (a flag from a newer release, or a typo, may take a
value we would misread as the prompt). Arity is 0 (boolean), 1, 2 (click tuples), "?" (optional value:
taken when the next argument does not start with "-") or "*" (variadic: every following
argument up to the next one starting with "-"), which is how commander and clap read
`--allowedTools a b` and `-i x.png y.png`.
"""

MODES = ("interactive", "oneshot", "meta")


def is_flag(arg):
    """An option-looking argument: starts with '-' and is not '-' itself (stdin) or '--'."""
    return len(arg) > 1 and arg[0] == "-" and arg != "--"


def scan(args, spec, start=0, stop_at_positional=False):
    """Tokenize `args[start:]`. Returns (tokens, stopped_at).

    Each token is a dict: kind "flag" | "pos" | "dashdash"; for flags `name` (as written,
    without `=value`), `index`, `form` ("none", "separate", "equals", "attached"),
    `value` (str, list for arity 2/*, or None) and `value_index` (index of the first
    separate value or None). Positionals after "--" carry `after_dashdash: True`.
    `stop_at_positional` stops before the first positional (to hand over to a subcommand)
    and returns its index as `stopped_at`; otherwise `stopped_at` is None.
    """
    arity_of = spec.get("arity", {})
    short_equals = spec.get("short_equals", False)
    tokens = []
    n = len(args)
    i = start
    while i < n:
        arg = args[i]
        if arg == "--":
            tokens.append({"kind": "dashdash", "index": i})
            for j in range(i + 1, n):
                tokens.append({"kind": "pos", "index": j, "value": args[j], "after_dashdash": True})
            return tokens, None
        if not is_flag(arg):
            if stop_at_positional:
                return tokens, i
            tokens.append({"kind": "pos", "index": i, "value": arg, "after_dashdash": False})
            i += 1
            continue
        if arg.startswith("--"):
            name, eq, attached = arg.partition("=")
            arity = arity_of.get(name, 0)
            if eq:
                token = _flag(name, i, "equals", [attached] if arity in (2, "*") else attached)
                token["head"] = name + "="
                tokens.append(token)
                i += 1
                continue
            i = _take(tokens, args, i, name, arity)
            continue
        # A short flag: `-m`, `-mX`, `-m=X` (clap), or a cluster of booleans `-pc`.
        name = arg[:2]
        rest = arg[2:]
        arity = arity_of.get(name, 0)
        if not rest:
            i = _take(tokens, args, i, name, arity)
            continue
        if arity != 0:
            head = name
            if short_equals and rest.startswith("="):
                rest = rest[1:]
                head = name + "="
            token = _flag(name, i, "attached", rest)
            token["head"] = head
            tokens.append(token)
            i += 1
            continue
        # A cluster: every letter is a flag; a value-taking letter swallows the rest.
        cluster_ok = True
        for k in range(1, len(arg)):
            letter = "-" + arg[k]
            letter_arity = arity_of.get(letter, 0)
            if letter_arity != 0:
                value = arg[k + 1:]
                if value:
                    token = _flag(letter, i, "attached", value, cluster=True)
                    token["head"] = arg[:k + 1]
                    tokens.append(token)
                else:
                    cluster_ok = False
                break
            tokens.append(_flag(letter, i, "none", None, cluster=True))
        if not cluster_ok:
            # `-pm MODEL`: the value-taking letter closes the cluster and takes the next arg.
            i = _take(tokens, args, i, "-" + arg[-1], arity_of.get("-" + arg[-1], 0), cluster=True)
            continue
        i += 1
    return tokens, None


def _flag(name, index, form, value, value_index=None, cluster=False):
    token = {"kind": "flag", "name": name, "index": index, "form": form,
             "value": value, "value_index": value_index}
    if cluster:
        token["cluster"] = True
    return token


def _take(tokens, args, i, name, arity, cluster=False):
    """Append flag `name` at args[i] with its separate value(s); return the next index."""
    n = len(args)
    if arity == 0:
        tokens.append(_flag(name, i, "none", None, cluster=cluster))
        return i + 1
    if arity == 1:
        if i + 1 < n:
            tokens.append(_flag(name, i, "separate", args[i + 1], i + 1, cluster))
            return i + 2
        tokens.append(_flag(name, i, "missing", None, cluster=cluster))
        return i + 1
    if arity == 2:
        values = list(args[i + 1:i + 3])
        tokens.append(_flag(name, i, "separate" if len(values) == 2 else "missing", values,
                            i + 1 if values else None, cluster))
        return i + 1 + len(values)
    if arity == "?":
        if i + 1 < n and not args[i + 1].startswith("-"):
            tokens.append(_flag(name, i, "separate", args[i + 1], i + 1, cluster))
            return i + 2
        tokens.append(_flag(name, i, "none", None, cluster=cluster))
        return i + 1
    # variadic
    j = i + 1
    while j < n and not args[j].startswith("-"):
        j += 1
    values = list(args[i + 1:j])
    tokens.append(_flag(name, i, "separate" if values else "missing", values,
                        i + 1 if values else None, cluster))
    return j


def unknown_flag(tokens, spec):
    """Why argv cannot be read safely: the first flag `spec` does not list, or a flag whose
    value is missing; None when every flag is known and complete."""
    arity = spec.get("arity", {})
    booleans = spec.get("booleans", ())
    for token in tokens:
        if token["kind"] != "flag":
            continue
        name = token["name"]
        if name not in arity and name not in booleans:
            return "unknown flag %s" % name
        if token["form"] == "missing":
            return "flag %s has no value" % name
    return None


def last_flag(tokens, names):
    """The last token whose flag name is in `names` (repeated flags: the last one wins)."""
    found = None
    for token in tokens:
        if token["kind"] == "flag" and token["name"] in names:
            found = token
    return found


def has_flag(tokens, names):
    for token in tokens:
        if token["kind"] == "flag" and token["name"] in names:
            return True
    return False


def positionals(tokens):
    return [t for t in tokens if t["kind"] == "pos"]


def model_site(token, prefix="", suffix=""):
    """Where the model value sits in argv, so render can rewrite it in the same form.

    `prefix`/`suffix` wrap the model inside the value (codex `-c model="o3"`)."""
    if token is None or token["form"] in ("missing", "none"):
        return None
    return {"index": token["index"], "flag": token["name"], "form": token["form"],
            "value_index": token["value_index"], "head": token.get("head", token["name"]),
            "prefix": prefix, "suffix": suffix}


def request(tool, args, **fields):
    """A Request dict with every key of the contract (docs/internals.md) filled."""
    req = {
        "tool": tool,
        "args": list(args),
        "mode": "interactive",
        "understood": True,
        "prompt": None,
        "prompt_index": None,
        "prompt_on_stdin": False, # exec: the prompt reaches the child on stdin, not argv
        "model": None,
        "model_pinned": False,
        "model_chooser": None,    # a flag that picks the model indirectly (codex --profile)
        "avoid_models": (),       # models the rewrite must not pick (claude --fallback-model)
        "output_format": None,
        "resume": False,
        "subcommand": None,
        "untranslatable": [],
        # Beyond the contract, for render and the classifier:
        "system": None,           # a system prompt that has an equivalent in other tools
        "model_site": None,       # where the model value sits (see model_site)
        "model_insert_at": 0,     # where a model flag can be inserted when none was given
        "untouched": None,        # why routing must leave understood argv alone ("resume")
        "adapter": None,
    }
    req.update(fields)
    return req


def passthrough(tool, args, reason, adapter=None):
    """A Request for argv we do not understand: everything passes through untouched."""
    return request(tool, args, understood=False, untranslatable=[reason], adapter=adapter,
                   model_insert_at=None)


def unknown(tool, args, reason, adapter, grammar=None):
    """A pass-through for argv with a flag neither the built-in nor the learned table knows:
    the reason names the tool version that was learned, and `unknown_flag` the flag, so
    `llm-shim logs` and `doctor` can say which release turned routing off."""
    version = (grammar or {}).get("version")
    if version and reason.startswith("unknown flag"):
        reason += " (not in the --help of %s %s either)" % (tool, version)
    req = passthrough(tool, args, reason, adapter)
    if reason.startswith("unknown flag "):
        req["unknown_flag"] = reason.split()[2]
    return req


def replace_model(args, site, model):
    """A copy of `args` with the model at `site` replaced by `model`, keeping the form."""
    out = list(args)
    text = site.get("prefix", "") + model + site.get("suffix", "")
    form = site["form"]
    if form == "separate":
        out[site["value_index"]] = text
    elif form in ("equals", "attached"):
        out[site["index"]] = site["head"] + text
    else:
        return None
    return out


def insert_model(args, at, flag, model):
    """A copy of `args` with `flag model` inserted at index `at` (`flag=model` if it looks
    like an option, so the tool cannot mistake it for a flag)."""
    out = list(args)
    items = [flag + "=" + model] if (model.startswith("-") and flag.startswith("--")) else [flag, model]
    out[at:at] = items
    return out


def dash_safe(prompt, reserved=()):
    """The prompt as positional argv: `--` first when it would be read as an option or as a
    subcommand name."""
    if prompt.startswith("-") or prompt in reserved:
        return ["--", prompt]
    return [prompt]
