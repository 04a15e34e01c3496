r"""The memory-traffic floor of an LE network's step, for the benchmark.

A dense plastic projection with :math:`S = n_\mathrm{pre} n_\mathrm{post}` weights of
:math:`B` bytes needs, per step, at least one read and one write of its weights (the
fused sweep: `le_brian.engine.dense.FusedDenseUpdater`), :math:`2SB` bytes; the
neuron vectors are :math:`O(n)` and left out (under 1 % of the traffic for the networks
of the benchmark). `weight_traffic` gives the bytes per step of each projection path as
implemented; `probe_bandwidth` measures this machine's read+write bandwidth over a
buffer of the networks' weight size with a small C++ loop compiled with the compiler
and flags of Brian2's cpp_standalone programs. The floor is then

.. math:: f_\mathrm{floor} = \frac{\mathrm{bandwidth}}{2 B \sum_l S_l}
          \quad \text{steps/s},

with learning; a run without learning needs one read of the weights (the fused pass's
evaluation branch), so its floor counts :math:`B \sum_l S_l` bytes per step (twice the
steps/s). The benchmark reports each program's steps/s as a fraction of it, measured in the
same run.
"""

import functools
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .engine.registry import DTYPES

__all__ = ["PATH_TRAFFIC", "weight_traffic", "probe_bandwidth", "floor_steps_per_s"]

#: Weight passes per step of one projection, by path: (bytes per weight in units of the
#: weight size B, index bytes per weight), for a projection without / with the feedback
#: sum (the input projection has none). dense: one read and one write (fused sweep);
#: dense_eval: one read (the fused pass's evaluation branch, a run without learning);
#: dense_unfused: forward read, feedback read, plasticity read + write; plain (Brian2's
#: templates): the same passes plus the int32 pre/post index of every synapse read by
#: each (two indices per pass).
PATH_TRAFFIC = {
    "dense": ((2, 0), (2, 0)),
    "dense_eval": ((1, 0), (1, 0)),
    "dense_unfused": ((3, 0), (4, 0)),
    "plain": ((3, 16), (4, 24)),
    "numpy-loop": ((3, 0), (4, 0)),
}


def weight_traffic(sizes, path="dense", dtype="float64"):
    """Bytes of weights (and index arrays) moved per step by the projections of a
    layered network ``sizes`` on projection path ``path`` (a key of `PATH_TRAFFIC`).

    Examples
    --------
    >>> weight_traffic([784, 300, 100, 10], "dense")  # 266,200 weights, read + write
    4259200
    """
    if path not in PATH_TRAFFIC:
        raise ValueError(f"path must be one of {sorted(PATH_TRAFFIC)}, got {path!r}")
    itemsize = np.dtype(dtype).itemsize
    total = 0
    for l, (n_pre, n_post) in enumerate(zip(sizes[:-1], sizes[1:])):
        weights, index = PATH_TRAFFIC[path][l >= 1]
        total += n_pre * n_post * (weights * itemsize + index)
    return total


_PROBE = r"""
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
typedef %(type)s real;
int main(int argc, char** argv)
{
    const size_t n = strtoull(argv[1], NULL, 10) / sizeof(real);
    const double budget = atof(argv[2]);
    const real c = (real)atof(argv[3]);
    std::vector<real> buffer(n, (real)1);
    real* __restrict p = buffer.data();
    double best = 1e30;
    for (int batch = 0; batch < 5; batch++)
    {
        const auto t0 = std::chrono::steady_clock::now();
        long passes = 0;
        double elapsed;
        do
        {
            for (size_t k = 0; k < n; k++)
                p[k] = p[k] + c;
            passes++;
            elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        } while (elapsed < budget / 5);
        if (elapsed / passes < best)
            best = elapsed / passes;
    }
    printf("%%.9g %%g\n", best, (double)p[n / 2]);
    return 0;
}
"""


@functools.cache
def _probe_binary(dtype):
    from brian2 import prefs

    cxx = os.environ.get("CXX", "g++")
    folder = Path(tempfile.mkdtemp(prefix="le_brian_probe_"))
    source = folder / "probe.cpp"
    source.write_text(_PROBE % {"type": "double" if dtype == "float64" else "float"})
    flags = [f for f in prefs.codegen.cpp.extra_compile_args_gcc if f != "-w"]
    cmd = [cxx, *flags, str(source), "-o", str(folder / "probe")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"compiling the bandwidth probe failed ({' '.join(cmd)}):\n"
                           f"{proc.stderr[-2000:]}")
    return folder / "probe", " ".join([cxx, *flags])


def probe_bandwidth(n_bytes, dtype="float64", seconds=0.3):
    """Read+write bandwidth (bytes/s, reads and writes counted) of one thread streaming
    ``p[k] = p[k] + c`` over a buffer of ``n_bytes``: the best pass of five batches of
    ``seconds``/5 each. The probe is compiled once per process with the C++ compiler
    (``$CXX``, default ``g++``) and Brian2's ``codegen.cpp.extra_compile_args_gcc``.

    Returns
    -------
    dict
        ``bytes_per_s``, ``n_bytes``, ``dtype``, ``pass_seconds``, ``compiler`` (the
        command's compiler and flags).

    Raises
    ------
    ValueError
        On ``n_bytes`` < 1024, an unknown dtype or ``seconds`` <= 0.
    RuntimeError
        When the probe does not compile or run.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    if not isinstance(n_bytes, (int, np.integer)) or n_bytes < 1024:
        raise ValueError(f"n_bytes must be an int >= 1024, got {n_bytes!r}")
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds!r}")
    binary, compiler = _probe_binary(dtype)
    proc = subprocess.run([str(binary), str(int(n_bytes)), repr(float(seconds)), "1e-30"],
                          capture_output=True, text=True, timeout=60 + 10 * seconds)
    if proc.returncode != 0:
        raise RuntimeError(f"the bandwidth probe failed: {proc.stderr[-500:]}")
    pass_seconds = float(proc.stdout.split()[0])
    n = (int(n_bytes) // np.dtype(dtype).itemsize) * np.dtype(dtype).itemsize
    return {"bytes_per_s": 2 * n / pass_seconds, "n_bytes": n, "dtype": dtype,
            "pass_seconds": pass_seconds, "compiler": compiler}


def floor_steps_per_s(sizes, bytes_per_s, dtype="float64", learn=True):
    """Steps/s of the memory-traffic floor: ``bytes_per_s`` over the fused sweep's
    weight traffic: one read and one write of every weight per step with learning, one
    read without (``learn=False``: the evaluation floor, twice the learning floor).

    Examples
    --------
    >>> floor_steps_per_s([784, 300, 100, 10], 4259200e4)
    10000.0
    >>> floor_steps_per_s([784, 300, 100, 10], 4259200e4, learn=False)
    20000.0
    """
    return bytes_per_s / weight_traffic(sizes, "dense" if learn else "dense_eval", dtype)
