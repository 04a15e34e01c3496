"""The package's layering, read from the import statements (AST), not from text: no
library module imports the command line, module-level imports form no cycle, the NumPy
references stand apart from the Brian2 path, and no module grows past the size limit."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "le_brian"
#: The longest a module may be (lines); docs/contributing says why modules stay small.
MAX_LINES = 650


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path, modules, top_level_only):
    """Modules of the package that ``path`` imports (resolved relative imports; ``from
    pkg import sub`` counts as importing ``pkg.sub`` when that is a module)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source
                       for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules)
    return found


def test_no_library_module_imports_the_command_line():
    modules = _modules()
    offenders = []
    for name, path in modules.items():
        if name.startswith("le_brian.cli") or name == "le_brian.__main__":
            continue  # the command line and its entry point
        bad = [m for m in _imports(path, modules, top_level_only=False)
               if m.startswith("le_brian.cli")]
        offenders += [f"{name} -> {m}" for m in bad]
    assert not offenders, offenders


def test_module_level_imports_form_no_cycle():
    modules = _modules()
    graph = {name: _imports(path, modules, top_level_only=True) - {name}
             for name, path in modules.items()}
    # a package's __init__ importing its own submodules is how packages are made
    for name in graph:
        graph[name] = {m for m in graph[name] if not m.startswith(name + ".")}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles


def test_numpy_references_stand_apart():
    modules = _modules()
    for name, path in modules.items():
        if not name.startswith("le_brian.numpy_reference"):
            continue
        bad = [m for m in _imports(path, modules, top_level_only=False)
               if m.split(".")[1] in ("engine", "networks", "equations", "protocols", "cli")]
        assert not bad, (name, bad)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_modules_stay_small(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines (limit {MAX_LINES})"


def test_the_checks_see_real_imports(tmp_path):
    """The import reader resolves relative imports and submodules (a check that could
    not fail would prove nothing)."""
    modules = _modules()
    layered = PACKAGE / "networks" / "layered.py"
    found = _imports(layered, modules, top_level_only=True)
    assert {"le_brian.engine.network", "le_brian.networks.architecture",
            "le_brian.equations", "le_brian.params"} <= found, found
