"""``le-brian cache info | clear``: the compiled programs kept across processes."""

import time

__all__ = ["add_cache_command", "cache_report"]


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def cache_report():
    """Lines describing the cache: folder, size bound, entries per device (size, last
    use), build directories, Cython's compiled code and the fast builds' precompiled
    headers."""
    from ..engine.devices import DEVICES, cache_dir, program_store
    from ..engine.program_cache import cache_limit

    root = cache_dir(create=False)
    lines = [f"cache folder: {root}  (LE_BRIAN_CACHE)",
             f"program cache bound: {_size(cache_limit())}  (LE_BRIAN_CACHE_SIZE)"]
    for device in DEVICES[1:]:
        entries = program_store(device).entries()
        total = sum(e[2] for e in entries)
        lines.append(f"{device}: {len(entries)} compiled program(s), {_size(total)}")
        for key, _, size, used in reversed(entries):
            lines.append(f"  {key[:16]}  {_size(size):>10}  last used "
                         f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(used))}")
        builds = list((root / device).glob("build-*")) if (root / device).is_dir() else []
        if builds:
            lines.append(f"  {len(builds)} build folder(s) of running or kept processes")
    cython = root / "cython"
    if cython.is_dir():
        size = sum(p.stat().st_size for p in cython.rglob("*") if p.is_file())
        lines.append(f"runtime (Cython): {_size(size)}")
    pch = root / "pch"
    if pch.is_dir():
        headers = list(pch.glob("*/le_pch.h.gch"))
        size = sum(p.stat().st_size for p in pch.rglob("*") if p.is_file())
        lines.append(f"precompiled headers (fast builds): {len(headers)}, {_size(size)}")
    return lines


def _cli_cache(args):
    import shutil

    from ..engine.devices import DEVICES, cache_dir, program_store, sweep_stale_builds

    if args.action == "info":
        print("\n".join(cache_report()))
        return 0
    removed = sum(program_store(device).clear() for device in DEVICES[1:])
    stale = sweep_stale_builds()
    for folder in ("cython", "pch"):
        path = cache_dir(create=False) / folder
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
    print(f"removed {removed} compiled program(s), {len(stale)} stale build folder(s), "
          f"Cython's compiled code and the precompiled headers from {cache_dir(create=False)}")
    return 0


def add_cache_command(sub):
    p = sub.add_parser("cache", help="show or clear the compiled programs kept across processes",
                       description="Compiled standalone programs are kept in $LE_BRIAN_CACHE "
                       "(default ~/.cache/le_brian), keyed by their generated code and the "
                       "toolchain, at most $LE_BRIAN_CACHE_SIZE (default 2G; least recently "
                       "used evicted). 'info' lists them, 'clear' removes them (build folders of "
                       "running processes stay).")
    p.add_argument("action", choices=("info", "clear"))
    p.set_defaults(func=_cli_cache)
