#!/usr/bin/env python3
"""layers.py - check that src/ depends only downward.

Every #include "..." of every file under src/ is resolved to a file, the
includes are followed through headers (transitively), and each folder may
reach only the folders the table below allows it.  Prints the folder graph
(direct includes) and every forbidden path with the chain of includes that
makes it; exits 1 when there is one.

    python3 scripts/layers.py [--dot]

The table is the layering of docs/ARCHITECTURE.md; change both together.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
INC = os.path.join(ROOT, "include")

# folder -> folders it may include (itself and include/jrx always allowed)
BASE = {"util"}
ALLOWED = {
    "util":     set(),
    "format":   {"util"},
    "io":       {"util", "format"},
    "journal":  {"util", "format", "io"},
    "btree":    {"util", "format", "io", "journal"},
    # the sort is data: journal keys and the journal index, no device, no
    # store; its spilled runs (spill.h) go to a scratch file through io's
    # write queue
    "sort":     {"util", "format", "io", "journal"},
    "replay":   {"util", "format", "io", "journal", "btree"},
    "workload": {"util", "format", "io", "journal", "btree"},
    "recovery": {"util", "format", "io", "journal", "btree", "sort",
                 "replay"},
    # fsck recovers an unclean array before it checks (run.c), so it sits
    # above recovery, as DESIGN's order says
    "fsck":     {"util", "format", "io", "journal", "btree", "sort",
                 "replay", "recovery"},
    "cli":      {"util", "format", "io", "journal", "btree", "sort",
                 "replay", "recovery", "fsck", "workload"},
}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    rel = os.path.relpath(path, SRC)
    if rel.startswith(".."):
        return "include" if os.path.relpath(path, INC)[:2] != ".." else None
    return rel.split(os.sep)[0]


def resolve(src_file, name):
    for base in (os.path.dirname(src_file), SRC, INC):
        p = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(p):
            return p
    return None


def main():
    files = []
    for d, _, names in os.walk(SRC):
        files += [os.path.join(d, n) for n in names if n.endswith((".c", ".h"))]
    edges = {}
    unresolved = []
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        edges[f] = []
        for name in INCLUDE_RE.findall(text):
            p = resolve(f, name)
            if p is None:
                unresolved.append((f, name))
            else:
                edges[f].append(p)
    graph = {}
    for f, tos in edges.items():
        for t in tos:
            a, b = folder_of(f), folder_of(t)
            if a != b and b != "include":
                graph.setdefault(a, set()).add(b)
    bad = []
    for f in sorted(files):
        me = folder_of(f)
        allowed = ALLOWED.get(me)
        if allowed is None:
            bad.append(f"{os.path.relpath(f, ROOT)}: folder src/{me} is not"
                       " in the layer table")
            continue
        # depth-first through headers, remembering the chain
        seen = {f: None}
        stack = [f]
        while stack:
            cur = stack.pop()
            for t in edges.get(cur, ()):
                if t in seen:
                    continue
                seen[t] = cur
                tf = folder_of(t)
                if tf not in (me, "include") and tf not in allowed:
                    chain = [t]
                    c = cur
                    while c is not None:
                        chain.append(c)
                        c = seen[c]
                    chain = " -> ".join(os.path.relpath(x, ROOT)
                                        for x in reversed(chain))
                    bad.append(f"src/{me} reaches src/{tf}: {chain}")
                    continue
                stack.append(t)
    if "--dot" in sys.argv:
        print("digraph layers {")
        for a in sorted(graph):
            for b in sorted(graph[a]):
                print(f'  "{a}" -> "{b}";')
        print("}")
    else:
        print("folder graph (direct includes):")
        for a in sorted(graph, key=lambda x: list(ALLOWED).index(x)
                        if x in ALLOWED else 99):
            print(f"  {a:9s} -> {' '.join(sorted(graph[a]))}")
    for f, name in unresolved:
        bad.append(f'{os.path.relpath(f, ROOT)}: #include "{name}" names no'
                   " file")
    if bad:
        print(f"{len(bad)} forbidden include path(s):")
        for b in bad:
            print("  " + b)
        return 1
    print(f"layers: {len(files)} files, every include points downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
