"""The house's limits, checked on the source tree (the rules: ``docs/architecture.md``).

The checks read ``src/infolens`` as text with :mod:`ast` (only the ``__all__`` and
``sys.modules`` tests import it) and report all offenders in one message. Each test first
runs its checker on a small made-up violation, so that a checker that has gone blind fails too.
"""

from __future__ import annotations

import ast
import importlib
import io
import json
import re
import subprocess
import sys
import textwrap
import tokenize
import types
from collections import defaultdict, namedtuple
from functools import lru_cache
from itertools import combinations
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "infolens"
MAX_LINES = 400
MIN_RUN, MAX_DUPLICATES = 6, 6
# The optional heavy dependencies: imported only by ``infolens.core.optional``, inside its helpers.
HEAVY = ("dask", "distributed", "faiss", "lightning", "matplotlib", "pyarrow", "pytorch_lightning",
         "sentence_transformers", "tensorboard", "torch", "transformers", "yaml")
OPTIONAL = "infolens.core.optional"
PUBLIC_PACKAGES = ("infolens", "infolens.batch", "infolens.bench", "infolens.cli",
                   "infolens.datasets", "infolens.monitor", "infolens.runs")
# The stages in import order (docs/architecture.md): a module may import its own stage and the
# stages before it, never one after it. "infolens" is the package's __init__.
STAGES = ("core", "kernels", "spectrum", "measures", "registry", "api", "datasets", "infolens",
          "runs", "models", "monitor", "batch", "bench", "cli", "__main__")

Site = namedtuple("Site", "line targets in_function dynamic")


# ----------------------------------------------------------------------------- reading the tree
def package_modules(src=SRC, package=PACKAGE):
    """``{dotted module name: path}`` for every ``.py`` file of the package."""
    found = {}
    for path in sorted((Path(src) / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _constant_strings(node):
    """The strings of a literal ``"a"`` or ``("a", "b")`` / ``["a", "b"]``, else None."""
    items = node.elts if isinstance(node, (ast.Tuple, ast.List)) else [node]
    if all(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
        return [i.value for i in items]
    return None


@lru_cache(maxsize=None)
def import_sites(source, module, is_package=False):
    """Every import in ``source``: statements, and ``import_module`` / ``__import__`` calls.

    Targets are absolute dotted names (``from a import b`` gives ``a.b``; the caller maps them to
    the longest known module prefix). A dynamic import's target is known when its argument is a
    string literal, a module constant holding one, or the variable of a ``for`` loop over such a
    tuple; otherwise its targets are empty.
    """
    tree = ast.parse(source)
    here = module.split(".") if is_package else module.split(".")[:-1]
    constants = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            names = node.targets if isinstance(node, ast.Assign) else [node.target]
            strings = _constant_strings(node.value)
            for name in names:
                if isinstance(name, ast.Name) and strings is not None:
                    constants[name.id] = strings

    def relative(level, name):
        base = here[: len(here) - (level - 1)] if level > 1 else here
        return ".".join(base + ([name] if name else []))

    def known(expr, loops):
        strings = _constant_strings(expr)
        if strings is None and isinstance(expr, ast.Name):
            strings = loops.get(expr.id, constants.get(expr.id))
        return strings

    sites = []

    def visit(node, in_function, loops):
        if isinstance(node, ast.Import):
            sites.append(Site(node.lineno, [a.name for a in node.names], in_function, False))
        elif isinstance(node, ast.ImportFrom):
            base = relative(node.level, node.module) if node.level else node.module
            sites.append(Site(node.lineno, [f"{base}.{a.name}" for a in node.names],
                              in_function, False))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and node.args:
                targets = known(node.args[0], loops) or []
                targets = [relative(len(t) - len(t.lstrip(".")), t.lstrip(".")) if t.startswith(".")
                           else t for t in targets]
                sites.append(Site(node.lineno, targets, in_function, True))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            in_function = True
        if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
            strings = known(node.iter, loops)
            if strings is not None:
                loops = {**loops, node.target.id: strings}
        for child in ast.iter_child_nodes(node):
            visit(child, in_function, loops)

    visit(tree, False, {})
    return sites


def import_graph(modules, read=lambda p: Path(p).read_text(encoding="utf-8")):
    """``{module: {imported package module: first line}}``, self-imports left out; a target
    counts for the longest known module its dotted name starts with."""
    graph = {}
    for module, path in modules.items():
        graph[module] = edges = {}
        for site in import_sites(read(path), module, str(path).endswith("__init__.py")):
            for owner in site.targets:
                while owner and owner not in modules:
                    owner = owner.rpartition(".")[0]
                if owner and owner != module:
                    edges.setdefault(owner, site.line)
    return graph


def find_cycles(graph):
    """One cycle ``[a, b, ..., a]`` per strongly connected component of more than one module
    (Tarjan's algorithm, iterative)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    cycles = []
    for component in components:  # a shortest way round, from the first member back to it
        start = min(component)
        paths, seen = [[start]], {start}
        while paths:
            path = paths.pop(0)
            nxt = [m for m in sorted(graph[path[-1]]) if m in component]
            if start in nxt:
                cycles.append(path + [start])
                break
            for m in nxt:
                if m not in seen:
                    seen.add(m)
                    paths.append(path + [m])
    return sorted(cycles)


def misplaced_imports(source, module):
    """Imports that are not at the top of the file: statements inside a function or class body,
    module-level imports below the first ``def`` / ``class``, and ``import_module`` /
    ``__import__`` of a known name inside a function (except in the optional-dependency module)."""
    found = []
    for site in import_sites(source, module):
        if site.in_function and not (site.dynamic and (module == OPTIONAL or not site.targets)):
            kind = "dynamic import" if site.dynamic else "import"
            found.append(f"{module}:{site.line}: {kind} of {', '.join(site.targets)} in a body")
    code_started = False
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            code_started = True
        elif code_started and any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(node)):
            found.append(f"{module}:{node.lineno}: import below the first def/class")
    return found


def heavy_imports(source, module):
    """Imports of an optional heavy dependency anywhere in a module other than core.optional."""
    if module == OPTIONAL:
        return []
    return [f"{module}:{site.line}: {target}" for site in import_sites(source, module)
            for target in site.targets if target.split(".")[0] in HEAVY]


def _code_lines(source):
    """``(folded text, line number)`` of each line that counts for duplication: not blank, not a
    comment, not lone punctuation, not part of an import; comments stripped, white space folded."""
    skip = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skip.update(range(node.lineno, node.end_lineno + 1))
    lines = source.splitlines()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col]
    folded = ((" ".join(line.split()), number) for number, line in enumerate(lines, 1))
    return [(text, number) for text, number in folded if number not in skip and text
            and not re.fullmatch(r"[()\[\]{},:;.'\"]+", text)]


def duplicated_places(sources, min_run=MIN_RUN):
    """``{(place a, place b): shared lines}`` for each pair of files (or a file with itself) that
    share a run of ``min_run`` identical counted lines; ``sources`` is ``{name: text}``."""
    lines = {name: _code_lines(text) for name, text in sources.items()}
    windows = defaultdict(list)
    for name, kept in lines.items():
        for i in range(len(kept) - min_run + 1):
            windows[tuple(t for t, _ in kept[i:i + min_run])].append((name, i))
    matched = defaultdict(set)  # (file a, file b) -> {(start a, start b)}
    for places in windows.values():
        for (fa, ia), (fb, ib) in combinations(sorted(places), 2):
            if fa != fb or ib - ia >= min_run:  # runs inside one file must not overlap
                matched[fa, fb].add((ia, ib))
    pairs = {}
    for (fa, fb), starts in sorted(matched.items()):
        (ia, ib), count = min(starts), 1
        while (ia + count, ib + count) in starts:
            count += 1
        last = count + min_run - 2
        a = f"{fa}:{lines[fa][ia][1]}-{lines[fa][ia + last][1]}"
        b = f"{fb}:{lines[fb][ib][1]}-{lines[fb][ib + last][1]}"
        pairs[a, b] = lines[fa][ia][0]
    return pairs


def loaded_by(modules, watched):
    """``{module: watched modules that its import loaded}``, importing ``modules`` in turn in one
    fresh interpreter (a module loaded by an earlier import is charged to that one)."""
    code = textwrap.dedent(f"""
        import importlib, json, sys
        found = {{}}
        for name in {tuple(modules)!r}:
            before = set(sys.modules)
            try:
                importlib.import_module(name)
            except Exception as exc:  # reported as a finding, not as a crash of the probe
                found[name] = [f"(import failed: {{exc!r}})"]
                continue
            found[name] = sorted(w for w in {tuple(watched)!r}
                                 if w in sys.modules and w not in before)
        print(json.dumps(found))
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


# ----------------------------------------------------------------------------- the limits
def test_no_module_over_400_lines(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert list(package_modules(tmp_path, "pkg")) == ["pkg"]
    assert len(package_modules(tmp_path, "pkg")["pkg"].read_text().splitlines()) > MAX_LINES

    modules = package_modules()
    assert len(modules) > 20, f"no package found under {SRC}"
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in modules.items()}
    over = sorted(((n, m) for m, n in sizes.items() if n > MAX_LINES), reverse=True)
    assert not over, f"{len(over)} modules over {MAX_LINES} lines:\n" + "\n".join(
        f"  {m}: {n}" for n, m in over)


def test_import_graph_has_no_cycle():
    toy = {"p": "", "p.a": "def f():\n    from . import b\n", "p.b": "from p.c import g\n",
           "p.c": "import importlib\n\ndef g():\n    importlib.import_module('p.a')\n",
           "p.d": "NAMES = ('p.a',)\nfor n in NAMES:\n    __import__(n)\n"}
    graph = import_graph({m: m for m in toy}, read=toy.get)
    assert graph["p.d"] == {"p.a": 3} and graph["p.b"] == {"p.c": 1}
    assert find_cycles(graph) == [["p.a", "p.b", "p.c", "p.a"]]
    assert find_cycles({"x": {"y": 1}, "y": {}}) == []

    cycles = find_cycles(import_graph(package_modules()))
    assert not cycles, f"{len(cycles)} import cycles:\n" + "\n".join(
        "  " + " -> ".join(c) for c in cycles)


def test_imports_sit_at_the_top_of_the_file():
    toy = textwrap.dedent("""
        import os
        if TYPE_CHECKING:
            from p import q
        def f(name):
            import json
            importlib.import_module(name)
            return importlib.import_module("p.x")
        import sys
        """)
    found = misplaced_imports(toy, "p.m")
    assert [f.split(":")[1] for f in found] == ["6", "8", "9"], found

    found = [line for module, path in package_modules().items()
             for line in misplaced_imports(path.read_text(encoding="utf-8"), module)]
    assert not found, f"{len(found)} imports not at the top of their file:\n" + "\n".join(
        f"  {line}" for line in found)


def test_heavy_dependencies_only_in_core_optional():
    toy = "import numpy\nfrom torch import nn\ndef f():\n    import matplotlib.pyplot\n"
    assert heavy_imports(toy, "p.m") == ["p.m:2: torch.nn", "p.m:4: matplotlib.pyplot"]
    assert heavy_imports(toy, OPTIONAL) == []

    found = [line for module, path in package_modules().items()
             for line in heavy_imports(path.read_text(encoding="utf-8"), module)]
    assert not found, (f"{len(found)} imports of an optional dependency outside {OPTIONAL} "
                       "(call its helper there instead):\n" + "\n".join(f"  {x}" for x in found))


def test_each_stage_imports_only_the_stages_before_it():
    def stage(module):
        parts = module.split(".")
        return parts[1] if len(parts) > 1 else parts[0]

    def against_order(graph):
        rank = {name: i for i, name in enumerate(STAGES)}
        found = [f"{m}: stage {stage(m)!r} is not in STAGES" for m in graph if stage(m) not in rank]
        return found + [f"{m} -> {t}" for m, edges in sorted(graph.items()) for t in sorted(edges)
                        if rank.get(stage(t), -1) > rank.get(stage(m), len(rank))]

    toy = {"infolens.core.a": {"infolens.measures.b": 1}, "infolens.measures.b": {"infolens.core.a": 1},
           "infolens.extra": {}}
    assert against_order(toy) == ["infolens.extra: stage 'extra' is not in STAGES",
                                  "infolens.core.a -> infolens.measures.b"]

    found = against_order(import_graph(package_modules()))
    assert not found, f"{len(found)} imports against the stage order:\n" + "\n".join(
        f"  {x}" for x in found)


def test_public_all_is_sorted_and_resolves():
    def problems(module):
        names = list(getattr(module, "__all__", []))
        out = [f"{module.__name__}.{n} does not resolve" for n in names if not hasattr(module, n)]
        out += [f"{module.__name__}.__all__ has duplicates"] if len(set(names)) < len(names) else []
        return out

    toy = types.ModuleType("toy")
    toy.__all__, toy.a = ["b", "a", "a"], 1
    assert problems(toy) == ["toy.b does not resolve", "toy.__all__ has duplicates"]

    infolens = importlib.import_module(PACKAGE)  # here, so that a broken import fails this test only
    found = problems(infolens)
    if list(infolens.__all__) != sorted(infolens.__all__):
        found.append("infolens.__all__ is not sorted")
    for name in PUBLIC_PACKAGES[1:]:
        found += problems(importlib.import_module(name))
    assert not found, "\n".join(found)


def test_import_does_not_load_heavy_dependencies():
    assert loaded_by(["csv", "wave"], ["csv", "wave", "zipfile"]) == {"csv": ["csv"], "wave": ["wave"]}

    found = {m: names for m, names in loaded_by(PUBLIC_PACKAGES, HEAVY).items() if names}
    assert not found, "importing a public package loads optional dependencies:\n" + "\n".join(
        f"  import {m}: {', '.join(names)}" for m, names in found.items())


def test_at_most_six_duplicated_places():
    run = "".join(f"value_{i} = compute({i}, scale)  # step {i}\n" for i in range(MIN_RUN))
    toy = {"a.py": f"import os\n{run}\nx = 1\n", "b.py": f"def f(scale):\n{textwrap.indent(run, '    ')}",
           "c.py": run.replace("step", "other step")}
    found = duplicated_places(toy)
    assert list(found) == [("a.py:2-7", "b.py:2-7"), ("a.py:2-7", "c.py:1-6"),
                           ("b.py:2-7", "c.py:1-6")], found
    assert duplicated_places({"a.py": run[: run.rindex("value_")], "b.py": run}) == {}

    found = duplicated_places({str(p.relative_to(SRC)): p.read_text(encoding="utf-8")
                               for p in package_modules().values()})
    assert len(found) <= MAX_DUPLICATES, (
        f"{len(found)} pairs of places in src/ share {MIN_RUN}+ identical lines "
        f"(at most {MAX_DUPLICATES}):\n" + "\n".join(
            f"  {a} ~ {b}: {line!r}" for (a, b), line in found.items()))
