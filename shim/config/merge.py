"""Deep merge of the configuration layers, remembering where every node was written.

Layers are applied lowest precedence first (default, user, project, env). Mappings merge key by
key; anything else (scalars, lists, null) replaces what was below it wholesale. `origins` maps a
path tuple to `(file, line)` of the layer that wrote it, so a problem found after the merge can
still be reported at the line of the file where the offending node was written.
"""

import copy


def merge_layers(layers):
    """Merge `[(file, value, marks)]` (lowest precedence first) -> (merged, origins)."""
    merged = {}
    origins = {}
    for file, value, marks in layers:
        if not isinstance(value, dict):
            # The validator reports a non-mapping top level; nothing to merge from it.
            continue
        origins[()] = (file, marks.get((), 1))
        _merge_into(merged, value, (), origins, file, marks)
    return merged, origins


def _merge_into(base, overlay, path, origins, file, marks):
    for key, value in overlay.items():
        child = path + (key,)
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            origins[child] = (file, marks.get(child, 1))
            _merge_into(base[key], value, child, origins, file, marks)
            continue
        _forget(origins, child)
        base[key] = copy.deepcopy(value)
        for mark_path, line in marks.items():
            if mark_path[:len(child)] == child:
                origins[mark_path] = (file, line)


def _forget(origins, path):
    """Drop the origins of `path` and everything below it (it is being replaced)."""
    size = len(path)
    for known in [p for p in origins if p[:size] == path]:
        del origins[known]


def origin_of(origins, path):
    """`(file, line)` of the nearest node at or above `path` that has a recorded origin."""
    while True:
        found = origins.get(path)
        if found is not None:
            return found
        if not path:
            return ("<config>", 1)
        path = path[:-1]
