"""The README is a landing page: its Python block runs as shown (in a fresh process, from a
scratch folder), its links point to files in the repository, it keeps the two quick-start
commands that .ci/run runs, and its citation and license files exist. The guide pages' blocks
are run by tests/test_docs.py."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_is_a_landing_page():
    assert len(README.splitlines()) <= 150
    assert len(BLOCKS) == 1 and len(BLOCKS[0].splitlines()) <= 16
    assert "bash scripts/setup_env.sh && .venv/bin/le-brian demo" in README
    assert "bash scripts/setup_env.sh test && .venv/bin/python -m pytest -n 2 -q" in README
    assert ".venv/bin/python -m pytest -n 2 -q" in (ROOT / ".ci" / "run").read_text()
    assert "make -C docs html" in README
    assert "WO2023046504A1" in README and "MIT" in README


@pytest.mark.standalone
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path):
    env = dict(os.environ, LE_BRIAN_CACHE=os.environ.get("LE_BRIAN_CACHE",
                                                        str(tmp_path / "cache")))
    out = subprocess.run([sys.executable, "-c", BLOCKS[index]], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"README block {index}:\n{BLOCKS[index]}\n{out.stderr[-3000:]}"
    mse = float(re.search(r"test MSE ([0-9.]+)", out.stdout).group(1))
    assert mse < 0.02   # the README says "about 0.006" (before training: ~0.4)


def test_readme_links_point_to_repository_files():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert len(local) >= 15, "expected links into the documentation"
    for link in local:
        assert (ROOT / link).exists(), link


def test_citation_file_names_the_paper():
    cff = (ROOT / "CITATION.cff").read_text()
    assert cff.startswith("cff-version: 1.2.0")
    for word in ("preferred-citation:", "Haider", "Petrovici", "2110.14549", "license: MIT"):
        assert word in cff, word
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert re.search(r"^license = MIT$", (ROOT / "setup.cfg").read_text(), flags=re.M)
