#!/usr/bin/env python3
"""Module layering of Tally's crates: no cycle among the modules of `shared/`, `functions/`,
`local/`, and no domain module importing an engine adapter (README, "Architecture").

A module depends on another when its code (tests excepted) names a path into it: `crate::a::b`,
`super::b`, `self::b`, or a child module by name. A path to an item a module re-exports
(`pub use child::Item`) counts as a path into the module that defines it; `mod` declarations
and re-exports themselves are not dependencies. Adapters are the modules named `dynamodb` or
`sqlite` and everything under `store/` that is engine-specific (`store::dynamodb`,
`store::sqlite`). Exits 1 naming each cycle and each domain-to-adapter import.
"""

import re
import sys
from pathlib import Path

CRATES = ["shared/src", "functions/src", "local/src"]
ADAPTERS = {"dynamodb", "sqlite"}
# Where an adapter's engine is wired to the services: the state builders, the test helpers and
# the local API's store setup, which pick the engine and so must name it.
WIRING = {"state", "test_support", "stores"}

PATH = re.compile(r"\b(crate|super|self|[a-z_][a-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE = re.compile(r"\buse\s+([^;]+);", re.S)
PUB_USE = re.compile(r"\bpub(?:\([a-z]+\))?\s+use\s+([^;]+);", re.S)
MOD = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_0-9]+)\s*;", re.M)


def strip(text):
    """Code without comments, string literals and the `#[cfg(test)] mod tests` block."""
    text = re.sub(r"#\[cfg\(test\)\]\s*mod\s+tests\s*\{.*", "", text, flags=re.S)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


def expand(tree):
    """The paths of one `use` tree: `a::{b, c::{d, e}}` is a::b, a::c::d, a::c::e."""
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix, inner, rest = tree[:start], tree[start + 1 : i], tree[i + 1 :]
                parts, level, last = [], 0, 0
                for j, c in enumerate(inner + ","):
                    level += {"{": 1, "}": -1}.get(c, 0)
                    if c == "," and level == 0:
                        if inner[last:j]:
                            parts.append(inner[last:j])
                        last = j + 1
                return [p for part in parts for p in expand(prefix + part + rest)]
    return [re.sub(r"\bas\b.*$", "", tree)]


def modules(root):
    """Module path (tuple) -> file, for one crate's sources (binaries excluded)."""
    found = {}
    for file in root.rglob("*.rs"):
        rel = file.relative_to(root).with_suffix("").parts
        if rel[0] == "bin":
            continue
        if rel[-1] in ("lib", "main", "mod"):
            rel = rel[:-1]
        found[tuple(rel)] = file
    return found


def resolve(module, path, known):
    """The module a path written in `module` points into, or None (another crate, std)."""
    head, *rest = path
    if head == "crate":
        base = ()
    elif head == "super":
        base = module[:-1]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    elif head == "self":
        base = module
    elif module + (head,) in known:
        base, rest = module + (head,), rest
    else:
        return None, None
    target = base
    while rest and target + (rest[0],) in known:
        target, rest = target + (rest[0],), rest[1:]
    return target, (rest[0] if rest else None)


def graph(root):
    known = modules(root)
    code = {m: strip(f.read_text()) for m, f in known.items()}
    reexports = {}
    for m, text in code.items():
        for tree in PUB_USE.findall(text):
            for path in expand(tree):
                target, name = resolve(m, path.split("::"), known)
                if target is not None and name and target != m:
                    reexports[(m, name)] = target
    edges = {m: set() for m in known}
    for m, text in code.items():
        body = MOD.sub("", PUB_USE.sub("", text))
        paths = [p.split("::") for tree in USE.findall(body) for p in expand(tree)]
        body = USE.sub("", body)
        paths += [[head] + tail.split("::")[1:] for head, tail in PATH.findall(body)]
        for path in paths:
            target, name = resolve(m, path, known)
            if target is None:
                continue
            target = reexports.get((target, name), target)
            if target != m and not is_ancestor(target, m):
                edges[m].add(target)
    return edges


def is_ancestor(a, b):
    return len(a) < len(b) and b[: len(a)] == a


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def is_adapter(m):
    return bool(m) and m[-1] in ADAPTERS


def name(m):
    return "::".join(m) or "crate"


def main():
    problems = []
    for crate in CRATES:
        edges = graph(Path(crate))
        for component in cycles(edges):
            problems.append(f"{crate}: cycle {' <-> '.join(map(name, component))}")
        for m, targets in sorted(edges.items()):
            if is_adapter(m) or (m and m[0] in WIRING):
                continue
            for t in sorted(targets):
                if is_adapter(t):
                    problems.append(f"{crate}: domain module {name(m)} imports adapter {name(t)}")
    for line in problems:
        print(line)
    if problems:
        sys.exit(1)
    print(f"layers: no module cycle and no domain-to-adapter import in {', '.join(CRATES)}")


if __name__ == "__main__":
    main()
