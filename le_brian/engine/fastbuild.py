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
  and kept in the package cache (``<cache>/pch/<hash>/``; published atomically), is
  force-included in every translation unit (``-include``); GCC uses it only when it was
  built with the same compiler and flags and otherwise falls back to the text header,
  so a stale or foreign file costs time, never correctness;
* ``make.deps`` is written empty: a build directory is always fresh (`_Program`), so
  there is nothing to rebuild incrementally;
* ``objects.o`` compiles at ``-O0``.

The program key (`le_brian.engine.program_cache.program_key`) is taken before these
changes, so cached binaries are shared with builds that do not use them.
"""

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from .program_cache import host_tag

__all__ = ["PCH_HEADERS", "prepare_makefile", "precompiled_header"]

#: Standard headers of Brian2's cpp_standalone sources (brianlib, objects, code objects).
PCH_HEADERS = ("algorithm", "cassert", "chrono", "climits", "cmath", "csignal", "cstddef",
               "cstdint", "cstdlib", "cstring", "ctime", "fstream", "iostream", "iterator",
               "limits", "map", "random", "set", "string", "tuple", "type_traits", "utility",
               "vector")

_MARK = "# le_brian fastbuild"
_PCH_RULE = f"""
{_MARK}
le_brian_pch:
\t$(CXX) $(filter-out -c,$(CXXFLAGS)) -x c++-header $(LE_PCH_HEADER) -o $(LE_PCH_HEADER).gch
"""


def _flags_line(makefile_text, name):
    match = re.search(rf"^{name}\s*=(.*)$", makefile_text, flags=re.MULTILINE)
    return match.group(1).strip() if match else ""


def precompiled_header(directory, root):
    """The path of a precompiled header for the project in ``directory`` (its
    makefile's compiler and flags), built under ``root`` on first use; None when it
    cannot be built (then nothing changes)."""
    makefile = Path(directory, "makefile")
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
    header = final / "le_pch.h"
    if Path(f"{header}.gch").is_file():
        return header
    tmp = Path(root) / f".tmp-{host_tag()}-{os.getpid()}-{key}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        (tmp / "le_pch.h").write_text("".join(f"#include <{h}>\n" for h in PCH_HEADERS))
        if _MARK not in text:
            makefile.write_text(text + _PCH_RULE)
        proc = subprocess.run(["make", "-s", "le_brian_pch", f"LE_PCH_HEADER={tmp / 'le_pch.h'}"],
                              cwd=directory, capture_output=True, timeout=600)
        if proc.returncode != 0 or not (tmp / "le_pch.h.gch").is_file():
            return None
        try:
            os.rename(tmp, final)
        except OSError:  # another process published it first: use theirs
            pass
        return header if Path(f"{header}.gch").is_file() else None
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
    if header is not None:
        lines.insert(0, f'CXXFLAGS += -include "{header}"')
    makefile.write_text(text + "\n".join(lines) + "\n")
    (directory / "make.deps").write_text("")
