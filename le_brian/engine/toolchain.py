"""The build toolchain of standalone programs: le_brian's cache folder and build
directories (one per program, named by host and pid, swept when their process is gone),
``make`` with the fast-build set-up, and the CUDA set-up (nvcc, the curand wheel)."""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from brian2 import prefs
from brian2.devices.device import get_device

from .fastbuild import prepare_makefile
from .program_cache import ProgramCache, host_tag
from .registry import DEVICES

__all__ = ["KEEP_MARKER", "cache_dir", "program_store", "build_root", "fast_build_enabled",
           "sweep_stale_builds", "configure_cuda_build", "cuda_build_available"]


#: A file in build directories kept on request (never swept).
KEEP_MARKER = ".le_brian_keep"


def cache_dir(create=True):
    """Directory for compiled code: ``$LE_BRIAN_CACHE``, else ``$XDG_CACHE_HOME/le_brian``
    (default ``~/.cache/le_brian``). Created on first use (``create``) when possible; a
    folder that cannot be created is reported when something needs to write there."""
    root = os.environ.get("LE_BRIAN_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(xdg, "le_brian")
    path = Path(root)
    if create:
        with contextlib.suppress(OSError):
            path.mkdir(parents=True, exist_ok=True)
    return path


def _writable(path):
    """``path`` created and writable, else a PermissionError naming LE_BRIAN_CACHE."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        raise PermissionError(
            f"le_brian's cache folder {path} is not writable ({err.strerror or err}): "
            f"standalone devices build there; set LE_BRIAN_CACHE to a writable folder"
        ) from None
    return Path(path)


def program_store(device_name):
    """The cross-process `ProgramCache` of ``device_name`` (``<cache>/programs/<device>``)."""
    return ProgramCache(cache_dir() / "programs" / device_name)


def build_root():
    """Where build directories are made: ``$LE_BRIAN_BUILD_DIR`` (e.g. a Dask worker's
    local directory) or the cache folder. The program cache stays in the cache folder."""
    root = os.environ.get("LE_BRIAN_BUILD_DIR")
    return Path(root) if root else cache_dir()


def _build_prefix():
    """Build directories are named ``build-<host>-<pid>-<random>``, so that the stale ones
    of a process that was killed can be found and removed later."""
    return f"build-{host_tag()}-{os.getpid()}-"


def fast_build_enabled():
    """Whether cpp_standalone builds use `le_brian.engine.fastbuild` (a cached
    precompiled header, no dependency pass, ``objects.cpp`` at -O0): yes unless the
    environment sets ``LE_BRIAN_FAST_BUILD=0``."""
    return os.environ.get("LE_BRIAN_FAST_BUILD", "1").strip() not in ("0", "no", "false")


def _make(directory, device_name="cpp_standalone"):
    """Compile a generated project with ``make`` (Brian2's ``make_cmd_unix`` and
    ``extra_make_args_unix`` preferences). Unlike Brian2's ``os.system`` call, Ctrl-C
    reaches Python (KeyboardInterrupt) and a failure reports the compiler's last lines.
    cpp_standalone projects get `le_brian.engine.fastbuild.prepare_makefile` first
    (`fast_build_enabled`)."""
    if os.name == "nt":  # Brian2's own MSVC path
        from brian2.codegen.cpp_prefs import get_compiler_and_args

        get_device().compile_source(directory, get_compiler_and_args()[0], False, False)
        return
    if device_name == "cpp_standalone" and fast_build_enabled():
        prepare_makefile(directory, cache_dir() / "pch")
    cmd = [prefs.devices.cpp_standalone.make_cmd_unix,
           *prefs.devices.cpp_standalone.extra_make_args_unix]
    log = Path(directory, "make.log")
    with open(log, "w") as out:
        proc = subprocess.run(cmd, cwd=directory, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode < 0 and -proc.returncode == signal.SIGINT:
        raise KeyboardInterrupt("the compilation was interrupted")
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-25:])
        raise RuntimeError(f"compiling the standalone program failed ({' '.join(cmd)} "
                           f"exited with {proc.returncode}); compiler output:\n{tail}")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def sweep_stale_builds(root=None):
    """Remove the build directories that processes of this host left behind when they
    were killed (their pid is no longer alive) and half-written program-cache entries;
    other hosts' directories (a shared cache), those of live processes and those kept
    with ``keep_builds=True`` stay. Returns the removed build directories."""
    root = Path(root) if root is not None else cache_dir()
    removed = []
    for path in root.glob(f"*/build-{host_tag()}-*-*"):
        try:
            pid = int(path.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if (path.is_dir() and pid != os.getpid() and not _pid_alive(pid)
                and not (path / KEEP_MARKER).exists()):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    for device_name in DEVICES[1:]:
        program_store(device_name).sweep_temporaries(_pid_alive)
    return removed


_SWEPT = []


def _configure_cython_cache():
    """Cython's compiled code goes to ``<cache>/cython`` when that folder is writable
    (else Brian2's own default stays)."""
    with contextlib.suppress(PermissionError):
        prefs.codegen.runtime.cython.cache_dir = str(_writable(cache_dir() / "cython"))


def configure_cuda_build(compute_capability=9.0, gpu_id=0, cuda_path=None):
    """Set brian2cuda preferences so that a project can be generated and compiled
    without a GPU (measured on this project's machines): no GPU or CUDA detection, the card set by
    hand, ``-std=c++17`` for nvcc and the host compiler, curand from the
    ``nvidia-curand`` wheel when the CUDA installation lacks it.
    Returns the CUDA path used."""
    import brian2cuda  # noqa: F401  (registers the preferences)

    if cuda_path is None:
        nvcc = shutil.which("nvcc")
        if nvcc is None:
            raise RuntimeError("configure_cuda_build: nvcc not found on PATH")
        cuda_path = str(Path(os.path.realpath(nvcc)).parent.parent)
    backend = prefs.devices.cuda_standalone.cuda_backend
    backend.detect_gpus = False
    backend.gpu_id = gpu_id
    backend.compute_capability = float(compute_capability)
    backend.detect_cuda = False
    backend.cuda_path = cuda_path
    nvcc_flags = [f for f in prefs.devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc
                  if not f.startswith("-std=")]
    backend.extra_compile_args_nvcc = nvcc_flags + ["-std=c++17"]
    prefs.codegen.cpp.extra_compile_args_gcc = [
        f for f in prefs.codegen.cpp.extra_compile_args_gcc if not f.startswith("-std=")
    ] + ["-std=c++17"]
    curand = _curand_wheel_dir()
    if curand is not None:
        include, lib = str(curand / "include"), str(curand / "lib")
        if include not in prefs.codegen.cpp.include_dirs:
            prefs.codegen.cpp.include_dirs = list(prefs.codegen.cpp.include_dirs) + [include]
        if lib not in prefs.codegen.cpp.library_dirs:
            prefs.codegen.cpp.library_dirs = list(prefs.codegen.cpp.library_dirs) + [lib]
            prefs.codegen.cpp.runtime_library_dirs = list(
                prefs.codegen.cpp.runtime_library_dirs) + [lib]
        _ensure_link_name(Path(lib))
    return cuda_path


def cuda_build_available():
    """True when brian2cuda programs can be generated and compiled here: ``nvcc`` on
    PATH and brian2cuda installed (a GPU is needed only to run them)."""
    if shutil.which("nvcc") is None:
        return False
    try:
        import brian2cuda  # noqa: F401
    except ImportError:
        return False
    return True


def _curand_wheel_dir():
    try:
        import nvidia.curand as nc  # the nvidia-curand wheel (namespace package)
    except ImportError:
        try:
            import nvidia  # newer wheels: nvidia/cu13/...
        except ImportError:
            return None
        for base in nvidia.__path__:
            for cand in Path(base).glob("**/libcurand.so*"):
                return cand.parent.parent
        return None
    for base in nc.__path__:
        if (Path(base) / "lib").is_dir():
            return Path(base)
    return None


def _ensure_link_name(lib):
    """The wheel ships libcurand.so.10 only; the linker needs libcurand.so."""
    if (lib / "libcurand.so").exists():
        return
    versioned = sorted(lib.glob("libcurand.so.*"))
    if versioned:
        try:
            (lib / "libcurand.so").symlink_to(versioned[0].name)
        except OSError:
            pass
