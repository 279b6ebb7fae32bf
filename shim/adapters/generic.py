"""A CLI described wholly in YAML, under `tools.<name>.generic` (docs/adapters.md).

Every key is optional; a tool with an empty `generic:` is understood only as far as its
`--help`/`--version`. Keys:

    oneshot_flags, oneshot_subcommands, positional_oneshot, interactive_subcommands,
    meta_flags, meta_subcommands, prompt_flags, prompt_positional, model_flags, value_flags,
    resume_flags, resume_subcommands, output_flags, output_formats, default_output,
    portable_flags, short_equals, render, render_output, failures

With `tools.<name>.help` the tool's grammar is learned from its `--help` (shim.grammar.learn):
a learned flag is read at its learned arity, and a learned subcommand that none of the keys
above classifies is a meta call, passed through untouched.
"""

from shim.adapters import base, learned

NAME = "generic"
DEFAULT_META_FLAGS = ("--help", "-h", "--version")


def settings(tool, cfg):
    entry = ((cfg or {}).get("tools") or {}).get(tool) or {}
    return entry.get("generic")


def _spec(g):
    arity = {}
    for key in ("value_flags", "model_flags", "prompt_flags", "output_flags"):
        for flag in g.get(key) or ():
            arity[flag] = 1
    return {"arity": arity, "short_equals": bool(g.get("short_equals", False))}


def parse(tool, args, cfg=None, grammar=None):
    g = settings(tool, cfg)
    if g is None:
        return base.passthrough(tool, args, "tool %s has no `generic:` description" % tool, NAME)
    spec = _spec(g)
    if grammar:
        spec = learned.merge_spec(spec, learned.flags(grammar))
    tokens, _ = base.scan(args, spec)
    meta_flags = g.get("meta_flags")
    meta_flags = set(DEFAULT_META_FLAGS if meta_flags is None else meta_flags)
    for token in tokens:
        if token["kind"] == "dashdash":
            break
        if token["kind"] == "flag" and token["name"] in meta_flags:
            return base.request(tool, args, mode="meta", adapter=NAME, model_insert_at=None)

    pos = base.positionals(tokens)
    subcommand = None
    oneshot = resume = False
    interactive_sub = False
    insert_at = 0
    if pos and not pos[0]["after_dashdash"]:
        word = pos[0]["value"]
        if word in (g.get("meta_subcommands") or ()):
            return base.request(tool, args, mode="meta", subcommand=word, adapter=NAME,
                                model_insert_at=None)
        if word in (g.get("oneshot_subcommands") or ()):
            subcommand, oneshot = word, True
        elif word in (g.get("interactive_subcommands") or ()):
            subcommand, interactive_sub = word, True
        elif word in (g.get("resume_subcommands") or ()):
            subcommand, resume = word, True
        elif grammar and word in learned.subcommands(grammar):
            return base.request(tool, args, mode="meta", subcommand=word, adapter=NAME,
                                model_insert_at=None)
        if subcommand is not None:
            insert_at = pos.pop(0)["index"] + 1

    prompt_flags = set(g.get("prompt_flags") or ())
    prompt_token = base.last_flag(tokens, prompt_flags)
    prompt = prompt_index = None
    if prompt_token is not None and prompt_token["form"] != "missing":
        prompt = prompt_token["value"]
        prompt_index = prompt_token["value_index"] if prompt_token["form"] == "separate" else prompt_token["index"]
    if g.get("prompt_positional", True):
        if len(pos) > 1 or (pos and prompt is not None):
            return base.passthrough(tool, args, "%s takes one prompt argument; got %d" % (
                tool, len(pos) + (prompt is not None)), NAME)
        if pos:
            prompt, prompt_index = pos[0]["value"], pos[0]["index"]
    elif pos:
        return base.passthrough(tool, args, "%s takes no positional arguments" % tool, NAME)

    oneshot_flags = set(g.get("oneshot_flags") or ())
    if base.has_flag(tokens, oneshot_flags):
        oneshot = True
    if pos and g.get("positional_oneshot", False):
        oneshot = True
    if interactive_sub:
        oneshot = False
    if base.has_flag(tokens, set(g.get("resume_flags") or ())):
        resume = True

    output_flags = set(g.get("output_flags") or ())
    output_token = base.last_flag(tokens, output_flags)
    output_format = None
    if output_token is not None and isinstance(output_token["value"], str):
        output_format = (g.get("output_formats") or {}).get(output_token["value"], output_token["value"])
    elif oneshot:
        output_format = g.get("default_output", "text")

    model_flags = g.get("model_flags") or ()
    model_token = base.last_flag(tokens, set(model_flags))
    if model_token is not None and model_token["form"] == "missing":
        model_token = None

    carried = set(model_flags) | prompt_flags | oneshot_flags | output_flags | set(g.get("portable_flags") or ())
    untranslatable = ["%s flag %s has no equivalent in other tools" % (tool, t["name"])
                      for t in tokens if t["kind"] == "flag" and t["name"] not in carried]
    if resume:
        untranslatable.append("resuming a %s session" % tool)
    return base.request(
        tool, args,
        mode="oneshot" if oneshot else "interactive",
        prompt=prompt,
        prompt_index=prompt_index,
        model=model_token["value"] if model_token else None,
        model_pinned=model_token is not None,
        output_format=output_format,
        resume=resume,
        subcommand=subcommand,
        untranslatable=untranslatable,
        model_site=base.model_site(model_token),
        model_insert_at=insert_at if model_flags else None,
        model_flag=model_flags[0] if model_flags else None,
        adapter=NAME,
    )


def build_oneshot(prompt, model, output_format, system, portable_output=False, cfg=None, tool=None):
    """argv from the `render` template: strings with {prompt}/{model}/{system} substituted;
    a nested list is an optional group, dropped when a placeholder in it has no value;
    the item "{output}" expands to `render_output[format]`."""
    g = settings(tool, cfg)
    if g is None or not g.get("render"):
        return None, "tool %s has no `generic.render` template" % tool
    values = {"prompt": prompt, "model": model, "system": system}
    used = set()
    prompt_flags = set(g.get("prompt_flags") or ())
    argv = []
    for item in g["render"]:
        group = item if isinstance(item, list) else [item]
        out = []
        missing = None
        for part in group:
            part = str(part)
            if part == "{output}":
                if output_format in (None, "text") and "text" not in (g.get("render_output") or {}):
                    continue
                extra = (g.get("render_output") or {}).get(output_format)
                if extra is None:
                    return None, "%s has no output format %r" % (tool, output_format)
                out += [str(x) for x in extra]
                used.add("output")
                continue
            text, absent = _fill(part, values, used)
            if absent:
                missing = absent
                break
            if part == "{prompt}" and text.startswith("-"):
                previous = out[-1] if out else (argv[-1] if argv else None)
                if previous not in prompt_flags:
                    out.append("--")  # a positional prompt that looks like an option
            out.append(text)
        if missing is not None:
            if not isinstance(item, list):
                if missing == "model":
                    continue  # a bare {model} with no model: the tool's default
                return None, "%s needs a %s on argv" % (tool, missing)
            continue
        argv += out
    if system is not None and "system" not in used:
        return None, "%s has no system-prompt in its render template" % tool
    if prompt is not None and "prompt" not in used:
        return None, "%s's render template has no {prompt}" % tool
    if output_format not in (None, "text") and "output" not in used:
        return None, "%s has no output format %r" % (tool, output_format)
    return argv, None


def _fill(part, values, used):
    """Substitute placeholders in one template string; returns (text, missing_name).

    `{prompt}` and `{system}` fill only an element that is exactly the placeholder (config
    validation refuses any other use, shim.config.checks.template_problem); should one slip
    through, it is left unfilled rather than spliced into a longer string."""
    text = part
    for name, value in values.items():
        mark = "{" + name + "}"
        if mark in text:
            if value is None:
                return None, name
            if name != "model" and text != mark:
                continue
            text = text.replace(mark, value)
            used.add(name)
    return text, None


def failures(tool, cfg):
    g = settings(tool, cfg) or {}
    return list((g.get("failures") or {}).items())
