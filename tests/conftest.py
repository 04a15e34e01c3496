"""Test-suite configuration: the long brian2cuda compile test starts first, so that on a
2-worker run (`pytest -n 2`) the other worker runs the rest of the suite alongside it
instead of waiting for it at the end.

le_brian (and so Brian2, which installs a SIGINT handler at import) is imported here, in
the main thread of every process: pytest-xdist's controller imports the module of a
warning class a worker reports (le_brian's `SpikeSaturationWarning`) in a thread, where
Brian2's import would fail ("signal only works in main thread")."""

import pytest

import le_brian  # noqa: F401  (see the docstring)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("cuda") is None)  # stable sort


@pytest.fixture
def cuda_compile_only(tmp_path, monkeypatch):
    """For brian2cuda compile tests (no GPU needed): the CUDA build configured, a fresh
    program cache (``tmp_path``: the program is compiled, not taken from the cache) and
    no optimisation (host -O0, ptxas -O0: nvcc needs ~20 % less time); Brian2's
    preferences restored afterwards. Yields ``compile(make_built)``: generates and
    compiles the `Built` that ``make_built()`` returns on a fresh cuda_standalone device
    and returns the build directory (a `pathlib.Path`)."""
    from brian2 import ms, prefs

    from le_brian.engine.devices import configure_cuda_build

    configure_cuda_build()
    monkeypatch.setenv("LE_BRIAN_CACHE", str(tmp_path))
    backend = prefs.devices.cuda_standalone.cuda_backend
    saved = (list(prefs.codegen.cpp.extra_compile_args_gcc),
             list(backend.extra_compile_args_nvcc))
    prefs.codegen.cpp.extra_compile_args_gcc = [
        "-O0" if f.startswith("-O") else f for f in saved[0]]
    backend.extra_compile_args_nvcc = saved[1] + ["-Xptxas", "-O0"]

    def compile_program(make_built):
        import time
        from pathlib import Path

        from le_brian.engine.devices import _new_standalone_device, _Program, _using

        t0 = time.perf_counter()
        device = _new_standalone_device("cuda_standalone")
        with _using(device):
            built = make_built()
        program = _Program("cuda_standalone", device, built, 2 * ms, None, False)
        print(f"cuda generate + compile: {time.perf_counter() - t0:.1f} s")
        assert not program.from_cache
        directory = Path(program.directory)
        assert (directory / "main").exists()
        return directory

    yield compile_program
    prefs.codegen.cpp.extra_compile_args_gcc, backend.extra_compile_args_nvcc = saved
