"""Compiled standalone programs kept across processes.

Brian2 generates a standalone project (C++ or CUDA sources and a makefile) and compiles
it with ``make``; le_brian's `le_brian.engine.devices.Simulator` then reruns that binary
with new values (``run_args``). Compiling takes seconds to tens of seconds, so the
binaries are kept in a cache shared by all processes of a machine:

* The **key** is a SHA-256 of what determines the binary: every generated source file
  and the makefile (which holds the compiler flags, ``-march=native`` included), the
  toolchain (the C++ compiler's ``--version`` and what ``-march=native`` resolves to on
  this CPU; ``nvcc --version`` for CUDA), the Brian2, brian2cuda and le_brian versions
  and the machine type. A binary built for another CPU or compiler is never run.
* **Safe under concurrency**: every process builds in its own private directory; a
  finished binary is copied into a temporary entry, flushed to disk and renamed to its
  key in one step. When two processes publish the same key, the second rename fails and
  that process keeps using its own (identical) binary.
* **Verified**: an entry records its binary's size and SHA-256 when it is published; a
  binary that does not match (truncated, damaged, missing) is never run: the entry is
  removed, the program is compiled again and the entry published anew.
* **Bounded**: after every publication the least recently used entries are evicted until
  the cache holds at most ``LE_BRIAN_CACHE_SIZE`` bytes (default ``2G``; suffixes
  ``K``, ``M``, ``G``). A use touches the entry. Processes copy a binary into their
  private build directory before running it, so eviction never breaks a running process.

``le-brian cache info`` lists the entries; ``le-brian cache clear`` removes them.
"""

import contextlib
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from .resources import parse_size

__all__ = ["ProgramCache", "cache_limit", "file_digest", "host_tag", "program_key",
           "toolchain_identity"]

DEFAULT_LIMIT = "2G"
# What a build directory holds besides the generated project: compiler output, results,
# run_args values, locks and logs; none of it goes into the key.
_NOT_SOURCE_DIRS = {"results", "static_arrays"}
_NOT_SOURCE_SUFFIXES = {".o", ".lock", ".log", ".dat", ".txt"}
_NOT_SOURCE_NAMES = {"main", "make.deps", "main.exe"}
#: Suffixes Brian2 adds to a code object's name when the process used the name before
#: (``..._codeobject_1``): history, not structure. They do not change what the binary
#: does (arrays, and the result files named after them, are named by variables and
#: their owners, which le_brian names explicitly, clocks included), so the key masks
#: them and a program built as a process's second finds the one built as another's
#: first.
_PROCESS_SUFFIXES = re.compile(rb"(_codeobject)_\d+(?![0-9])")
#: Brian2 resets the clocks' ``t`` and ``timestep`` in the order of a set of Clock
#: objects (hashed by identity: it differs between processes). The key sorts each run
#: of such independent assignments.
_CLOCK_RESET = re.compile(rb"^\s*_array_\w+_(timestep|t)\[0\] = [^;]+;\s*$")


def _normalised(text):
    """Generated source with process-dependent names and orders taken out."""
    lines, out, run = _PROCESS_SUFFIXES.sub(rb"\1", text).split(b"\n"), [], []
    for line in lines + [b""]:
        if _CLOCK_RESET.match(line):
            run.append(line)
            continue
        out += sorted(run)
        run = []
        out.append(line)
    return b"\n".join(out[:-1])


def file_digest(path):
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def host_tag():
    """This host's name as used in build and temporary directory names (no dashes)."""
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def cache_limit(value=None):
    """The cache's size bound in bytes: ``value`` or ``$LE_BRIAN_CACHE_SIZE`` (default
    ``2G``). Accepts a number of bytes or a number with a K/M/G/T suffix.

    Raises
    ------
    ValueError
        For anything else (naming ``LE_BRIAN_CACHE_SIZE``)."""
    text = str(value if value is not None
               else os.environ.get("LE_BRIAN_CACHE_SIZE", DEFAULT_LIMIT)).strip()
    return parse_size(text, "LE_BRIAN_CACHE_SIZE")


def _command_output(cmd):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as err:
        return f"<{cmd[0]} unavailable: {type(err).__name__}>"
    return proc.stdout + proc.stderr


def _native_target(cxx):
    """What ``-march=native`` means on this CPU for this compiler (GCC and Clang print
    the resolved -march/-mtune); the CPU's flags from /proc/cpuinfo in addition."""
    text = _command_output([cxx, "-march=native", "-Q", "--help=target"])
    resolved = sorted({line.split()[0] + " " + line.split()[-1]
                       for line in text.splitlines()
                       if line.strip().startswith(("-march=", "-mtune=")) and line.split()})
    cpu = ""
    try:
        info = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        info = ""
    for key in ("model name", "flags"):
        match = re.search(rf"^{key}\s*:\s*(.*)$", info, flags=re.MULTILINE)
        if match:
            cpu += key + ":" + " ".join(sorted(match.group(1).split())) + ";"
    return resolved, cpu


@functools.lru_cache(maxsize=None)
def toolchain_identity(device_name):
    """A description of everything outside the generated project that changes the binary
    (computed once per process and device): the C++ compiler ``make`` uses (``$CXX``,
    default ``g++``) and its version, ``-march=native`` resolved on this CPU, ``nvcc``'s
    version for CUDA, Brian2 / brian2cuda / le_brian versions, the machine type."""
    import brian2

    from .. import __version__

    cxx = os.environ.get("CXX", "g++")
    items = {"brian2": brian2.__version__, "le_brian": __version__,
             "machine": platform.machine(), "system": platform.system(),
             "cxx": cxx, "cxx_version": _command_output([cxx, "--version"]).strip(),
             "native": _native_target(cxx), "env": {k: os.environ.get(k, "") for k in
                                                    ("CXXFLAGS", "CPPFLAGS", "LDFLAGS")}}
    if device_name == "cuda_standalone":
        import brian2cuda

        items["brian2cuda"] = getattr(brian2cuda, "__version__", "?")
        items["nvcc_version"] = _command_output(["nvcc", "--version"]).strip()
    return json.dumps(items, sort_keys=True)


def _source_files(directory):
    root = Path(directory)
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] in _NOT_SOURCE_DIRS:
            continue
        if path.suffix in _NOT_SOURCE_SUFFIXES or path.name in _NOT_SOURCE_NAMES:
            continue
        yield rel, path


def program_key(directory, device_name):
    """SHA-256 of a generated (not yet compiled) standalone project in ``directory`` and
    of `toolchain_identity`: equal keys give the same binary."""
    digest = hashlib.sha256(toolchain_identity(device_name).encode())
    digest.update(device_name.encode())
    files = sorted((_PROCESS_SUFFIXES.sub(rb"\1", str(rel).encode()), path)
                   for rel, path in _source_files(directory))
    for rel, path in files:
        digest.update(b"\0" + rel + b"\0")
        digest.update(_normalised(path.read_bytes()))
    return digest.hexdigest()


def _dir_size(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


class ProgramCache:
    """Binaries of compiled standalone programs under ``root`` (``<root>/<key>/`` holds
    ``main`` and ``entry.json``), least recently used evicted beyond ``limit`` bytes.

    Parameters
    ----------
    root : path-like
        The folder of one device's entries (created when needed).
    limit : int, optional
        Size bound in bytes; default `cache_limit` ().
    """

    ENTRY = "entry.json"

    def __init__(self, root, limit=None):
        self.root = Path(root)
        self.limit = cache_limit() if limit is None else int(limit)

    def entries(self):
        """``[(key, path, size in bytes, last use as a Unix time)]``, oldest use first."""
        out = []
        if not self.root.is_dir():
            return out
        for path in self.root.iterdir():
            meta = path / self.ENTRY
            if path.name.startswith(".") or not meta.is_file():
                continue
            try:
                out.append((path.name, path, _dir_size(path), meta.stat().st_mtime))
            except OSError:  # evicted by another process meanwhile
                continue
        return sorted(out, key=lambda e: e[3])

    def _meta(self, key):
        try:
            meta = json.loads((self.root / key / self.ENTRY).read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def valid(self, key, binary=None):
        """Whether ``binary`` (default the entry's own ``main``) matches the size and
        SHA-256 recorded for ``key`` (an entry without them is not valid)."""
        meta = self._meta(key)
        binary = self.root / key / "main" if binary is None else Path(binary)
        try:
            return (meta is not None and binary.stat().st_size == meta.get("size")
                    and file_digest(binary) == meta.get("sha256"))
        except OSError:
            return False

    def discard(self, key):
        """Remove the entry of ``key`` (moved aside atomically first)."""
        path = self.root / key
        trash = self.root / f".trash-{host_tag()}-{os.getpid()}-{key[:16]}"
        try:
            os.rename(path, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def lookup(self, key):
        """The entry's directory for ``key`` (its use recorded) or None (also for an
        entry that does not verify, which is removed)."""
        path = self.root / key
        meta = path / self.ENTRY
        if not (meta.is_file() and (path / "main").is_file()):
            return None
        try:
            os.utime(meta)
        except OSError:
            pass  # read-only cache: still usable
        return path

    def fetch(self, key, directory):
        """Copy the binary of ``key`` into ``directory``; True on a hit. The copy is
        checked against the entry's size and checksum: a damaged entry is removed (and
        False returned, so that the program is compiled and published again)."""
        entry = self.lookup(key)
        if entry is None:
            return False
        target = Path(directory) / "main"
        try:
            shutil.copy2(entry / "main", target)
        except OSError:  # evicted between lookup and copy
            target.unlink(missing_ok=True)
            return False
        if not self.valid(key, target):
            target.unlink(missing_ok=True)
            if not self.valid(key):  # the entry itself is damaged (not just replaced)
                with contextlib.suppress(OSError):
                    self.discard(key)
            return False
        return True

    def publish(self, key, directory, info=None):
        """Store ``directory/main`` under ``key`` atomically with its size and SHA-256;
        returns the entry path (the existing one when another process published a valid
        entry of the key first; a damaged one, e.g. missing its binary, is replaced).
        Evicts least recently used entries beyond the limit afterwards."""
        final = self.root / key
        if final.exists():
            if self.valid(key):
                return final
            self.discard(key)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{host_tag()}-{os.getpid()}-{key[:16]}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            shutil.copy2(Path(directory) / "main", tmp / "main")
            meta = dict(info or {}, key=key, created=time.time(),
                        size=(tmp / "main").stat().st_size, sha256=file_digest(tmp / "main"))
            with open(tmp / self.ENTRY, "w") as f:
                json.dump(meta, f, indent=1)
            for name in ("main", self.ENTRY):
                fd = os.open(tmp / name, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            try:
                os.rename(tmp, final)
            except OSError:  # another process published it first: keep theirs
                if not (final / self.ENTRY).is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.evict(keep=key)
        return final

    def evict(self, keep=None):
        """Remove least recently used entries until the total is within the limit
        (``keep`` is never removed). Returns the removed keys."""
        entries = self.entries()
        total = sum(e[2] for e in entries)
        removed = []
        for key, path, size, _ in entries:
            if total <= self.limit:
                break
            if key == keep:
                continue
            shutil.rmtree(path, ignore_errors=True)
            total -= size
            removed.append(key)
        return removed

    def clear(self):
        """Remove every entry; returns how many."""
        entries = self.entries()
        for _, path, _, _ in entries:
            shutil.rmtree(path, ignore_errors=True)
        return len(entries)

    def sweep_temporaries(self, pid_alive):
        """Remove half-written temporaries of dead processes of this host."""
        for path in [*self.root.glob(f".tmp-{host_tag()}-*"),
                     *self.root.glob(f".trash-{host_tag()}-*")]:
            try:
                pid = int(path.name.split("-")[2])
            except (IndexError, ValueError):
                continue
            if pid != os.getpid() and not pid_alive(pid):
                shutil.rmtree(path, ignore_errors=True)
