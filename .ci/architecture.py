#!/usr/bin/env python3
"""The architecture, checked: what README's layout section promises about imports.

1. The core (every module but the adapters below) imports no adapter module (`discord`, `jobs`, `cli`) and
   no crate of an effect (serenity, tokio, rusqlite, postgres, ...). Only the store's backends
   (`store/sqlite/`, `store/postgres/`, `store/open.rs`) import a database crate.
2. No import circle: between the top-level modules of the crate, and between the files of any one folder
   (a folder's `mod.rs` declaring and re-exporting its own children is structure, not an import).
3. Sizes: no Rust file over 700 lines (tests, benches and examples included), no function over 80 lines.
4. The wall clock is read in `src/clock.rs` only (`Timestamp::now`, `SystemTime::now`).

Prints every finding and exits 1 if there is any; `--self-test` checks the checker on small samples.
"""
import os
import re
import sys
from collections import defaultdict

ADAPTERS = {"discord", "jobs", "cli", "main.rs", "config"}
BACKEND_FILES = ("store/sqlite/", "store/postgres/", "store/open.rs")
EFFECT_CRATES = {"serenity", "tokio", "rusqlite", "postgres", "tokio_postgres", "deadpool_postgres", "reqwest",
                 "axum", "hyper", "poise", "dotenvy", "tracing_subscriber", "prometheus", "r2d2", "r2d2_postgres"}
DATABASE_CRATES = {"rusqlite", "postgres", "tokio_postgres", "deadpool_postgres", "r2d2", "r2d2_postgres"}
MAX_FILE_LINES = 700
MAX_FN_LINES = 80


def strip_comments(text):
    """Code without comments and string literals' contents (so a doc mentioning `tokio::` is not an import)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == "r" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) and re.match(r'r#*"', text[i:]):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + len(hashes) + 2)
            out.append('""')
            i = n if end < 0 else end + 1 + len(hashes)
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif c == "'" and re.match(r"'(?:\\.|[^'\\])'", text[i:]):
            out.append("' '")
            i += len(re.match(r"'(?:\\.|[^'\\])'", text[i:]).group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def top_module(rel):
    """`search/index.rs` -> `search`; `clock.rs` -> `clock`; `lib.rs` -> None."""
    first = rel.split("/")[0]
    if first in ("lib.rs",):
        return None
    if first == "main.rs":
        return "main.rs"
    return first[:-3] if first.endswith(".rs") else first


def module_path(rel):
    """`search/index.rs` -> ['search', 'index']; `store/mod.rs` -> ['store']."""
    parts = rel[:-3].split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    return parts


def resolve(files_by_path, path):
    """The file that defines the longest prefix of a module path."""
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in files_by_path:
            return files_by_path[tuple(path[:n])]
    return None


def references(code, own_path):
    """Module paths a file names: `crate::a::b`, `super::x` (resolved against the file's own module path)."""
    found = []
    for match in re.finditer(r"\bcrate::((?:\w+::)*\w+)", code):
        found.append(match.group(1).split("::"))
    for match in re.finditer(r"\b((?:super::)+)((?:\w+::)*\w+)", code):
        ups = match.group(1).count("super::")
        base = own_path[: len(own_path) - ups] if ups <= len(own_path) else []
        found.append(base + match.group(2).split("::"))
    # `use crate::a::{b, c::d}` groups
    for match in re.finditer(r"\b(crate|super)::((?:\w+::)*)\{([^}]*)\}", code):
        head = match.group(2).strip(":").split("::") if match.group(2) else []
        if match.group(1) == "super":
            head = own_path[:-1] + head
        for item in match.group(3).split(","):
            item = item.strip().split(" as ")[0]
            if item and item not in ("self", "*"):
                found.append(head + item.split("::"))
    return found


def crates_used(code):
    return {m.group(1) for m in re.finditer(r"(?<![\w:])(\w+)::", code)} & EFFECT_CRATES


def functions_too_long(text):
    """(name, line, length) of every fn whose body spans more than MAX_FN_LINES lines."""
    lines = text.split("\n")
    long = []
    fn_re = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)")
    for i, line in enumerate(lines):
        match = fn_re.match(line)
        if not match:
            continue
        depth, started = 0, False
        for j in range(i, len(lines)):
            code = strip_comments(lines[j])
            if not started and ";" in code and "{" not in code:
                break  # a declaration without a body (trait method)
            depth += code.count("{") - code.count("}")
            started = started or "{" in code
            if started and depth <= 0:
                if j - i + 1 > MAX_FN_LINES:
                    long.append((match.group(1), i + 1, j - i + 1))
                break
    return long


def size_findings(rel, text):
    found = []
    count = text.count("\n")
    if count > MAX_FILE_LINES:
        found.append(f"{rel}: {count} lines (at most {MAX_FILE_LINES})")
    for name, line, length in functions_too_long(text):
        found.append(f"{rel}:{line}: fn {name} is {length} lines (at most {MAX_FN_LINES})")
    return found


def cycles(graph):
    """One cycle through each group of mutually reachable nodes, as lists of nodes."""
    nodes = sorted(set(graph) | {n for targets in graph.values() for n in targets})
    reach = {n: set() for n in nodes}
    for start in nodes:
        todo = list(graph.get(start, ()))
        while todo:
            n = todo.pop()
            if n not in reach[start]:
                reach[start].add(n)
                todo.extend(graph.get(n, ()))
    found, seen = [], set()
    for start in nodes:
        if start in seen or start not in reach[start]:
            continue
        group = {n for n in reach[start] if start in reach[n]}
        seen |= group
        # A shortest walk from `start` back to itself inside the group.
        previous, queue, last = {}, [start], None
        while queue and last is None:
            node = queue.pop(0)
            for target in sorted(graph.get(node, ())):
                if target == start:
                    last = node
                    break
                if target in group and target not in previous:
                    previous[target] = node
                    queue.append(target)
        path = [start]
        while last != start:
            path.insert(1, last)
            last = previous[last]
        found.append((sorted(group), path + [start]))
    return found


def check(sources):
    """`sources`: {path relative to src: text}. Returns a list of findings."""
    findings = []
    files_by_path = {tuple(module_path(rel)): rel for rel in sources if rel not in ("lib.rs", "main.rs")}
    top_graph = defaultdict(set)
    folder_graphs = defaultdict(lambda: defaultdict(set))
    for rel, text in sorted(sources.items()):
        code = strip_comments(text)
        own = module_path(rel) if rel not in ("lib.rs", "main.rs") else []
        top = top_module(rel)
        is_backend = rel.startswith(BACKEND_FILES)
        is_adapter = top in ADAPTERS
        for path in references(code, own):
            if not path:
                continue
            target_top = path[0]
            if top and target_top != top and tuple([target_top]) in files_by_path:
                top_graph[top].add(target_top)
                if not is_adapter and target_top in ADAPTERS:
                    findings.append(f"{rel}: the core imports the adapter `{target_top}`")
            target = resolve(files_by_path, path)
            if target and target != rel:
                folder = os.path.dirname(rel)
                target_folder = os.path.dirname(target)
                # A folder's mod.rs naming its own descendants is structure, not an import.
                structural = rel.endswith("mod.rs") and target.startswith(folder + "/") and folder
                if folder and folder == target_folder and not structural:
                    folder_graphs[folder][rel].add(target)
        if not is_adapter and top is not None:
            for crate in sorted(crates_used(code)):
                if is_backend and crate in DATABASE_CRATES:
                    continue
                findings.append(f"{rel}: the core uses `{crate}`")
        if rel != "clock.rs" and re.search(r"\b(Timestamp|SystemTime)::now\b", code):
            findings.append(f"{rel}: reads the wall clock (only clock.rs may)")
        findings.extend(size_findings(rel, text))
    for group, cycle in cycles(top_graph):
        findings.append(f"import circle among {', '.join(group)}: " + " -> ".join(cycle))
    for folder, graph in sorted(folder_graphs.items()):
        for group, cycle in cycles(graph):
            findings.append(f"import circle among {', '.join(group)}: " + " -> ".join(cycle))
    return findings


def self_test():
    sources = {
        "lib.rs": "pub mod a; pub mod b; pub mod discord;",
        "a.rs": "use crate::b::X;\nfn f() { tokio::spawn(1); }\n",
        "b.rs": "use crate::a::Y; // crate::discord::Z in a comment\nconst S: &str = \"crate::discord\";\n",
        "discord/mod.rs": "mod x; mod y; pub use x::X;\n",
        "discord/x.rs": "use super::y::Y;\n",
        "discord/y.rs": "use super::x::X;\nfn t() { let n = Timestamp::now(); }\n",
        "c.rs": "use crate::discord::Bot;\n" + "fn long() {\n" + "    let x = 1;\n" * 81 + "}\n",
    }
    found = check(sources)
    expect = [
        "a.rs: the core uses `tokio`",
        "c.rs: the core imports the adapter `discord`",
        "c.rs:2: fn long is 83 lines (at most 80)",
        "discord/y.rs: reads the wall clock (only clock.rs may)",
        "import circle among a, b: a -> b -> a",
        "import circle among discord/x.rs, discord/y.rs: discord/x.rs -> discord/y.rs -> discord/x.rs",
    ]
    missing = [e for e in expect if e not in found]
    extra = [f for f in found if f not in expect]
    if missing or extra:
        print("self-test failed\n missing:", missing, "\n unexpected:", extra)
        sys.exit(1)
    print("architecture check: self-test passed")


def main():
    if "--self-test" in sys.argv:
        self_test()
        return
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    sources = {}
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as file:
                    sources[os.path.relpath(path, root)] = file.read()
    findings = check(sources)
    for extra in ("tests", "benches", "examples"):
        for folder, _, names in os.walk(os.path.join(root, "..", extra)):
            for name in sorted(names):
                if name.endswith(".rs"):
                    path = os.path.join(folder, name)
                    rel = os.path.relpath(path, os.path.join(root, ".."))
                    with open(path, encoding="utf-8") as file:
                        findings.extend(size_findings(rel, file.read()))
    for finding in findings:
        print(finding)
    print(f"architecture check: {len(sources)} files, {len(findings)} findings")
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
