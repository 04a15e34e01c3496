"""The README's Python blocks run as shown (each in a fresh process, from a scratch
folder), and its links point to files in the repository."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 4


@pytest.mark.standalone
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path):
    env = dict(os.environ, LE_BRIAN_CACHE=os.environ.get("LE_BRIAN_CACHE",
                                                        str(tmp_path / "cache")))
    out = subprocess.run([sys.executable, "-c", BLOCKS[index]], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"README block {index}:\n{BLOCKS[index]}\n{out.stderr[-3000:]}"


def test_readme_links_point_to_repository_files():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert local, "expected links to repository files"
    for link in local:
        assert (ROOT / link).exists(), link


def test_gallery_figures_are_small_and_shown():
    """Every committed gallery PNG is under 300 KB and shown in the README."""
    gallery = sorted((ROOT / "figures" / "gallery").glob("*.png"))
    assert gallery
    for png in gallery:
        assert png.stat().st_size < 300_000, png.name
        assert f"figures/gallery/{png.name}" in README, png.name
