"""Shorter compilations of cpp_standalone projects (what a build's seconds go to).

Measured on a 2-core machine for a 784-300-100-10 LENetwork (22 translation units,
``make -j``; docs/guide/devices.md "Benchmarks"): every code object took ~0.7 s to compile at any
optimisation level, almost all of it parsing the same standard headers (71k lines after
preprocessing: ``<iostream>``, ``<fstream>``, ``<random>``, ...); ``make.deps`` (the
``-MM`` pass over every source) ran serially for ~1.4 s before any compilation;
``objects.cpp`` (array set-up and file I/O, never in the loop) took 2.2 s at ``-O3``.

`prepare_makefile` changes three things in a generated project, none of which changes
the code that is compiled:

* a precompiled header of those standard headers, built once per compiler and flag set
  and kept in the package cache (``<cache>/pch/<hash>/``, published atomically with its
  size and SHA-256 in ``entry.json``), is force-included in every translation unit
  (``-include le_pch.h``). The build directory gets its own hard link (or copy) of the
  header and its ``.gch``, so a ``le-brian cache clear`` by another process never pulls
  it from under a running build, and no cache path appears in the makefile (no path
  reaches the shell that runs make's recipes). An entry whose ``.gch`` does not match
  its recorded size and checksum (a truncated file) is removed and built again; GCC
  uses a header only when it was built with the same compiler and flags and otherwise
  falls back to the text header, so a stale or foreign file costs time, never
  correctness;
* ``make.deps`` is written empty: a build directory is always fresh (`_Program`), so
  there is nothing to rebuild incrementally;
* ``objects.o`` compiles at ``-O0``.

The program key (`le_brian.engine.program_cache.program_key`) is taken before these
changes, so cached binaries are shared with builds that do not use them.
"""

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from .program_cache import file_digest, host_tag

__all__ = ["PCH_HEADERS", "prepare_makefile", "precompiled_header"]

#: Standard headers of Brian2's cpp_standalone sources (brianlib, objects, code objects).
PCH_HEADERS = ("algorithm", "cassert", "chrono", "climits", "cmath", "csignal", "cstddef",
               "cstdint", "cstdlib", "cstring", "ctime", "fstream", "iostream", "iterator",
               "limits", "map", "random", "set", "string", "tuple", "type_traits", "utility",
               "vector")

HEADER = "le_pch.h"
ENTRY = "entry.json"
_MARK = "# le_brian fastbuild"
# run in the build directory with a relative header name: no path in the recipe
_PCH_RULE = f"""
{_MARK}
le_brian_pch:
\t$(CXX) $(filter-out -c,$(CXXFLAGS)) -x c++-header {HEADER} -o {HEADER}.gch
"""


def _flags_line(makefile_text, name):
    match = re.search(rf"^{name}\s*=(.*)$", makefile_text, flags=re.MULTILINE)
    return match.group(1).strip() if match else ""


def _entry_valid(final):
    """The cached header in ``final`` matches the size and SHA-256 recorded when it was
    published."""
    try:
        meta = json.loads((final / ENTRY).read_text())
        gch = final / f"{HEADER}.gch"
        return (gch.stat().st_size == meta["size"] and file_digest(gch) == meta["sha256"]
                and (final / HEADER).is_file())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _discard(final):
    """Move a damaged entry out of the way (atomically) and remove it."""
    trash = final.with_name(f".trash-{host_tag()}-{os.getpid()}-{final.name}")
    with contextlib.suppress(OSError):
        os.rename(final, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _link_or_copy(src, dst):
    """A private hard link of ``src`` at ``dst`` (a copy across file systems)."""
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _use_cached(final, directory):
    """Link the valid entry ``final`` into ``directory``; False when it is not valid
    or vanished meanwhile (removed by another process)."""
    if not _entry_valid(final):
        return False
    try:
        for name in (HEADER, f"{HEADER}.gch"):
            _link_or_copy(final / name, directory / name)
    except OSError:
        return False
    gch, linked = directory / f"{HEADER}.gch", final / f"{HEADER}.gch"
    if os.stat(gch).st_ino == os.stat(linked).st_ino:  # a hard link: the verified file
        return True
    return file_digest(gch) == json.loads((final / ENTRY).read_text())["sha256"]


def _publish(directory, root, key):
    """Copy the header built in ``directory`` into ``root/key`` atomically, with its size
    and checksum; another process's valid entry of the same key stays."""
    final = Path(root) / key
    tmp = Path(root) / f".tmp-{host_tag()}-{os.getpid()}-{key}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        gch = directory / f"{HEADER}.gch"
        for name in (HEADER, f"{HEADER}.gch"):
            shutil.copy2(directory / name, tmp / name)
        (tmp / ENTRY).write_text(json.dumps({"size": gch.stat().st_size,
                                             "sha256": file_digest(gch)}))
        if final.exists() and not _entry_valid(final):
            _discard(final)
        with contextlib.suppress(OSError):  # another process published it first
            os.rename(tmp, final)
    except OSError:
        pass  # a read-only cache: this build still has its own header
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def precompiled_header(directory, root):
    """Put a precompiled header for the project in ``directory`` (its makefile's
    compiler and flags) into ``directory`` as ``le_pch.h`` / ``le_pch.h.gch``: linked
    from the valid cache entry under ``root``, else built here and published. Returns
    the header's name (relative to ``directory``) or None when it cannot be built (then
    nothing changes)."""
    directory = Path(directory)
    makefile = directory / "makefile"
    text = makefile.read_text()
    cxx = os.environ.get("CXX", "g++")
    try:
        version = subprocess.run([cxx, "--version"], capture_output=True, text=True,
                                 timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    key = hashlib.sha256("\0".join(
        (cxx, version, _flags_line(text, "OPTIMISATIONS"), _flags_line(text, "CXXFLAGS"),
         *PCH_HEADERS)).encode()).hexdigest()[:24]
    final = Path(root) / key
    if _use_cached(final, directory):
        return HEADER
    if final.exists():  # damaged (truncated, missing its checksum): built again
        _discard(final)
    try:
        (directory / HEADER).write_text("".join(f"#include <{h}>\n" for h in PCH_HEADERS))
        if _MARK not in text:
            makefile.write_text(text + _PCH_RULE)
        proc = subprocess.run(["make", "-s", "le_brian_pch"], cwd=directory,
                              capture_output=True, timeout=600)
        if proc.returncode != 0 or not (directory / f"{HEADER}.gch").is_file():
            raise OSError("the precompiled header did not build")
    except (OSError, subprocess.SubprocessError):
        for name in (HEADER, f"{HEADER}.gch"):
            (directory / name).unlink(missing_ok=True)
        return None
    _publish(directory, root, key)
    return HEADER


def prepare_makefile(directory, pch_root):
    """Apply the changes of this module's docstring to the generated cpp_standalone
    project in ``directory`` (call after its program key is taken, before ``make``)."""
    directory = Path(directory)
    header = precompiled_header(directory, pch_root)
    makefile = directory / "makefile"
    text = makefile.read_text()
    if _MARK not in text:
        text += _PCH_RULE
    lines = ["objects.o: CXXFLAGS += -O0"]
    if header is not None:  # a name in the build directory: no path reaches the shell
        lines.insert(0, f"CXXFLAGS += -include {header}")
    makefile.write_text(text + "\n".join(lines) + "\n")
    (directory / "make.deps").write_text("")
