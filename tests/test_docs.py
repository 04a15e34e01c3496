"""The documentation covers the public API: every module of le_brian either has a page in
docs/api/index.rst or is named internal here (with the reason), every name in a documented
module's ``__all__`` has a docstring (a doc comment ``#:`` for constants), and the offline
intersphinx inventories hold what docs/conf.py links to. The Sphinx build itself (``make -C
docs html``, warnings as errors) runs in .ci/run after the test suite."""

import ast
import dataclasses
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import le_brian

ROOT = Path(__file__).resolve().parent.parent
API_INDEX = ROOT / "docs" / "api" / "index.rst"
GUIDE = sorted((ROOT / "docs").glob("**/*.md"))
#: (page, index on the page, code) of every ```python block of the guide pages.
BLOCKS = [(page.relative_to(ROOT).as_posix(), k, code)
          for page in GUIDE if "_build" not in page.parts
          for k, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(),
                                              flags=re.S))]

#: Modules without an API page of their own, and why. A new module of le_brian fails
#: ``test_every_module_has_a_page_or_a_reason`` until it is listed in docs/api/index.rst or here.
INTERNAL = {
    "le_brian": "the package: its re-exports are tabled at the top of docs/api/index.rst",
    "le_brian.__main__": "python -m le_brian (the command line, documented in the guide)",
    "le_brian.cli": "the command line (documented in the guide pages, not an import API)",
    "le_brian.models": "published parameter sets (data read by le_brian.parameter_sets)",
    "le_brian.networks": "re-exports le_brian.networks.layered / .microcircuit",
    "le_brian.numpy_reference.": "submodules re-exported by le_brian.numpy_reference",
    "le_brian.sweep.runner": "re-exported by le_brian.sweep",
    "le_brian.sweep.spec": "re-exported by le_brian.sweep",
    "le_brian.protocols": "package of the protocol modules, each with its page",
    "le_brian.protocols.presentation": "private helper of the protocols (no __all__)",
    "le_brian.engine": "package of the engine modules, each with its page",
    "le_brian.equations.layered": "equation strings, specified in docs/model.md",
    "le_brian.equations.spiking": "equation strings, specified in docs/model.md",
    "le_brian.excepthook": "installs the excepthook at import (no API)",
}


def documented_modules():
    """The module names listed in docs/api/index.rst's autosummary blocks."""
    return [line.strip() for line in API_INDEX.read_text().splitlines()
            if line.startswith("   le_brian.") and " " not in line.strip()]


def all_modules():
    """Every importable module of the installed le_brian."""
    names = ["le_brian"]
    for info in pkgutil.walk_packages(le_brian.__path__, "le_brian."):
        names.append(info.name)
    return names


def is_internal(name):
    return any(name == key or name.startswith(key if key.endswith(".") else key + ".")
               for key in INTERNAL)


def test_every_module_has_a_page_or_a_reason():
    documented = set(documented_modules())
    assert len(documented) >= 20
    missing = [name for name in all_modules()
               if name not in documented and not is_internal(name)]
    assert not missing, f"modules with neither an API page nor a reason in INTERNAL: {missing}"
    for name in documented:
        module = importlib.import_module(name)
        assert hasattr(module, "__all__"), f"{name} has no __all__ (its public names)"
        assert (module.__doc__ or "").strip(), f"{name} has no module docstring"


def attribute_has_doc(module_name, name, seen=()):
    """Whether the module-level assignment of ``name`` (followed through ``from x import
    name``) carries a doc comment (``#:`` lines above it) or a string right after it."""
    if module_name in seen:
        return False
    module = importlib.import_module(module_name)
    source = inspect.getsource(module)
    lines = source.splitlines()
    tree = ast.parse(source)
    for i, node in enumerate(tree.body):
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        if name in targets:
            above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
            after = tree.body[i + 1] if i + 1 < len(tree.body) else None
            string_after = (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                            and isinstance(after.value.value, str))
            return above.startswith("#:") or string_after
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name
                                                    for a in node.names):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""),
                                               module.__package__ or module_name)
            original = next(a.name for a in node.names if (a.asname or a.name) == name)
            return attribute_has_doc(base, original, seen + (module_name,))
    return False


def undocumented(module_name, name):
    """Why ``module_name.name`` counts as undocumented, or None."""
    obj = getattr(importlib.import_module(module_name), name)
    if inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj):
        doc = (obj.__doc__ or "").strip()
        if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and doc.startswith(
                obj.__name__ + "("):
            doc = ""  # the signature dataclasses write when there is no docstring
        return None if doc else "no docstring"
    return None if attribute_has_doc(module_name, name) else "no doc comment (#:)"


@pytest.mark.parametrize("module_name", documented_modules())
def test_public_names_are_documented(module_name):
    module = importlib.import_module(module_name)
    problems = {name: why for name in module.__all__
                if (why := undocumented(module_name, name))}
    assert not problems, f"{module_name}: {problems}"


@pytest.mark.parametrize("module_name", documented_modules())
def test_public_methods_are_documented(module_name):
    """Public methods and properties defined by a documented class have docstrings."""
    module = importlib.import_module(module_name)
    missing = []
    for name in module.__all__:
        cls = getattr(module, name)
        if not inspect.isclass(cls) or cls.__module__ != module_name:
            continue
        for attr, value in vars(cls).items():
            if attr.startswith("_") or not (inspect.isfunction(value)
                                            or isinstance(value, (property, classmethod,
                                                                  staticmethod))):
                continue
            func = value.fget if isinstance(value, property) else getattr(value, "__func__",
                                                                          value)
            if not (func.__doc__ or "").strip():
                missing.append(f"{name}.{attr}")
    assert not missing, f"{module_name}: undocumented {missing}"


def test_offline_inventories_resolve(tmp_path):
    """docs/_tools/make_inventories.py writes Sphinx v2 inventories whose every name
    imports from the installed package; the first four lines are the header Sphinx reads."""
    sys.path.insert(0, str(ROOT / "docs" / "_tools"))
    try:
        make_inventories = importlib.import_module("make_inventories")
    finally:
        sys.path.pop(0)
    paths = make_inventories.write_all(tmp_path)
    assert set(paths) >= {"brian2", "numpy", "neo", "elephant", "pynwb", "dask"}
    raw = paths["brian2"].read_bytes()
    header = raw.split(b"\n", 4)
    assert header[0] == b"# Sphinx inventory version 2"
    lines = zlib.decompress(header[4]).decode().splitlines()
    entries = {line.split()[0]: line.split()[1:] for line in lines}
    assert entries["brian2.NeuronGroup"] == [
        "py:class", "1",
        "reference/brian2.groups.neurongroup.NeuronGroup.html"
        "#brian2.groups.neurongroup.NeuronGroup", "-"]
    assert entries["brian2.units.fundamentalunits.Quantity"][0] == "py:class"
    neo = zlib.decompress(paths["neo"].read_bytes().split(b"\n", 4)[4]).decode()
    assert "neo.core.SpikeTrain py:class 1 api_reference.html#neo.core.SpikeTrain -" in neo
    with pytest.raises(ImportError):
        make_inventories.resolve("brian2.NoSuchGroup")


def test_guide_has_python_blocks():
    pages = {page for page, _, _ in BLOCKS}
    assert len(BLOCKS) >= 6 and len(pages) >= 4, pages


@pytest.mark.standalone
@pytest.mark.parametrize("page, index, code", BLOCKS, ids=[f"{p}-{k}" for p, k, _ in BLOCKS])
def test_guide_python_block_runs(page, index, code, tmp_path):
    """Every ```python block of docs/ runs as shown, in a fresh process in a scratch folder
    (the blocks of a page do not share state)."""
    env = dict(os.environ, LE_BRIAN_CACHE=os.environ.get("LE_BRIAN_CACHE",
                                                        str(tmp_path / "cache")),
               MPLBACKEND="agg")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"{page} block {index}:\n{code}\n{out.stderr[-3000:]}"


def test_guide_links_point_to_files():
    """Relative links of the guide pages (Markdown) point to files that exist."""
    for page in GUIDE:
        if "_build" in page.parts or page.name == "README_MAP.md":
            continue
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+://", link) or link.startswith("mailto:"):
                continue
            if link.startswith("../auto_examples/") or link.startswith("auto_examples/"):
                assert (ROOT / "examples").is_dir(), link  # generated by sphinx-gallery
                continue
            assert (page.parent / link).exists(), f"{page.name}: {link}"


def test_gallery_figures_are_small_and_shown():
    """Every committed gallery PNG is under 300 KB and shown on the figure page or the
    front page of the documentation."""
    gallery = sorted((ROOT / "figures" / "gallery").glob("*.png"))
    assert gallery
    shown = (ROOT / "docs" / "figures.md").read_text() + (ROOT / "docs" / "index.md").read_text()
    for png in gallery:
        assert png.stat().st_size < 300_000, png.name
        assert f"figures/gallery/{png.name}" in shown, png.name


def test_examples_open_with_a_docstring():
    """Every gallery example opens with a title and says what it shows."""
    examples = sorted((ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 6
    for path in examples:
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and "\n===" in doc and len(doc.split("\n\n", 1)[1]) > 80, path.name
