"""Speed benchmarks: steps/s and synapse updates/s of LE networks per device and
projection path, against a dense NumPy Euler loop of the same equations run in the same
process (the baseline of every ratio). Absolute numbers depend on the machine; the JSON
output records it. Nothing here asserts a time.

``le-brian benchmark`` or ``scripts/benchmark.py``.
"""

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from brian2 import Hz, ms

from .layered import LENetwork
from .reference import NumpyLENetwork

__all__ = ["benchmark_layered", "benchmark_numpy", "machine_info", "run_benchmarks", "add_cli"]

ARCHITECTURES = {
    "784-100-10": [784, 100, 10],
    "784-300-100-10": [784, 300, 100, 10],
    "784-1000-1000-10": [784, 1000, 1000, 10],
}


def machine_info():
    import brian2

    info = {"platform": platform.platform(), "processor": platform.processor(),
            "python": platform.python_version(), "brian2": brian2.__version__,
            "numpy": np.__version__, "cpu_count": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def _n_synapses(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _inputs(sizes, n_steps, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n_steps, sizes[0])), rng.uniform(0, 1, (n_steps, sizes[-1]))


def benchmark_numpy(sizes, n_steps, learn=True, seed=0):
    """Steps/s of the NumPy sweep loop (float64, one input per step)."""
    net = LENetwork(sizes, activation="hard_sigmoid", seed=seed, codegen_target="numpy")
    w, b = net.get_parameters()
    ref = NumpyLENetwork(w, b, "hard_sigmoid", "linear", 10e-3, 10e-3, 0.1, "voltage",
                         [100.0] * (len(sizes) - 1) if learn else 0.0, 1e-4)
    x, y = _inputs(sizes, n_steps, seed)
    t0 = time.perf_counter()
    for k in range(n_steps):
        ref.step(x[k], y[k] if learn else None, learn)
    elapsed = time.perf_counter() - t0
    return {"steps_per_s": n_steps / elapsed, "seconds": elapsed, "n_steps": n_steps}


def benchmark_layered(sizes, n_steps, device="cpp_standalone", learn=True, dtype="float64",
                      synapses=None, seed=0, repeats=2, steps_per_sample=10):
    """Build once, then time reruns of ``n_steps`` steps (a new input every
    ``steps_per_sample`` steps).

    Returns build seconds (generation + compilation + first run), the best rerun wall
    time (the whole rerun: writing inputs and weights, starting the program, reading
    results back) with its steps/s (``wall_steps_per_s``), and the simulation loop's
    own time (measured inside the compiled program; runtime: the run's wall time) with
    steps/s and synapse updates/s (``steps_per_s``, ``synapse_updates_per_s``).
    """
    kw = {} if synapses is None else {"synapses": synapses}
    net = LENetwork(sizes, activation="hard_sigmoid", seed=seed, device=device, dtype=dtype,
                    learning_rates=100 * Hz, keep_builds=False, **kw)
    n_samples = max(1, n_steps // steps_per_sample)
    n_steps = n_samples * steps_per_sample
    x, y = _inputs(sizes, n_samples, seed)
    targets = y if learn else None
    T = steps_per_sample * net.dt * 1e3 * ms
    every = n_steps * net.dt * 1e3 * ms
    t0 = time.perf_counter()
    first = net.run(x, T, targets=targets, learn=learn, record_every=every)
    build = time.perf_counter() - t0
    runs, loops = [], []
    for _ in range(repeats):
        net.reset_state()
        t1 = time.perf_counter()
        res = net.run(x, T, targets=targets, learn=learn, record_every=every)
        runs.append(time.perf_counter() - t1)
        loops.append(res.simulation_time or runs[-1])
    best, loop = min(runs), min(loops)
    return {"build_seconds": build, "compiled": first.compiled, "rerun_seconds": best,
            "loop_seconds": loop, "steps_per_s": n_steps / loop,
            "wall_steps_per_s": n_steps / best,
            "synapse_updates_per_s": n_steps * _n_synapses(sizes) / loop, "n_steps": n_steps,
            "steps_per_sample": steps_per_sample}


def run_benchmarks(architectures=("784-100-10", "784-300-100-10"), devices=("cpp_standalone",),
                   dtypes=("float64",), synapse_paths=(None,), learn=(True, False),
                   n_steps=2000, numpy_steps=300, out=None, progress=print,
                   microcircuit_steps=0):
    """Run the grid and return (and optionally write as JSON) every figure."""
    results = {"machine": machine_info(), "n_steps": n_steps, "entries": []}
    for arch in architectures:
        sizes = ARCHITECTURES[arch] if isinstance(arch, str) else list(arch)
        name = arch if isinstance(arch, str) else "-".join(map(str, sizes))
        for lrn in learn:
            base = benchmark_numpy(sizes, numpy_steps, learn=lrn)
            entry = {"architecture": name, "learn": lrn, "path": "numpy-loop", "device": "numpy",
                     "dtype": "float64", **base, "ratio_to_numpy": 1.0}
            results["entries"].append(entry)
            progress(_fmt(entry))
            for device in devices:
                for dtype in dtypes:
                    for path in synapse_paths:
                        r = benchmark_layered(sizes, n_steps, device, lrn, dtype, path)
                        entry = {"architecture": name, "learn": lrn, "path": path or "default",
                                 "device": device, "dtype": dtype, **r,
                                 "ratio_to_numpy": r["steps_per_s"] / base["steps_per_s"]}
                        results["entries"].append(entry)
                        progress(_fmt(entry))
    if microcircuit_steps:
        from .microcircuit import benchmark_microcircuit

        for device in devices:
            if device == "runtime":
                continue
            r = benchmark_microcircuit(microcircuit_steps, device)
            results["microcircuit_bars_9-30-3"] = results.get("microcircuit_bars_9-30-3", [])
            results["microcircuit_bars_9-30-3"].append(r)
            progress(f"microcircuit bars 9-30-3 {device}: {r['device_steps_per_s']:.0f} steps/s, "
                     f"NumPy loop {r['numpy_steps_per_s']:.0f} steps/s (x{r['ratio']:.1f})")
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(results, indent=2))
        progress(f"wrote {out}")
    return results


def _fmt(e):
    s = (f"{e['architecture']:>18s} learn={str(e['learn']):5s} {e['device']:>15s} "
         f"{e['path']:>10s} {e['dtype']:>7s}: {e['steps_per_s']:9.0f} steps/s "
         f"(x{e['ratio_to_numpy']:.1f} NumPy loop)")
    if "build_seconds" in e:
        s += f"  build {e['build_seconds']:.1f} s, rerun {e['rerun_seconds']:.3f} s"
    return s


def add_cli(sub, add_device):
    p = sub.add_parser("benchmark", help="steps/s per device and projection path vs NumPy",
                       description="Speed of LE networks (learning on and off) on the chosen "
                       "devices, against a dense NumPy loop of the same equations run in the same "
                       "process. Writes a JSON file with every figure and the machine.")
    p.add_argument("--architectures", default="784-100-10,784-300-100-10",
                   help=f"comma-separated, from {sorted(ARCHITECTURES)}")
    p.add_argument("--devices", default="cpp_standalone",
                   help="comma-separated devices (runtime, cpp_standalone, cuda_standalone)")
    p.add_argument("--dtypes", default="float64", help="float64,float32")
    p.add_argument("--paths", default="default", help="projection paths: default,dense,plain")
    p.add_argument("--steps", type=int, default=2000, help="steps per timed run")
    p.add_argument("--microcircuit-steps", type=int, default=100_000,
                   help="steps of the bars microcircuit benchmark (0: skip)")
    p.add_argument("--out", default="benchmark.json")
    p.set_defaults(func=_cli)


def _cli(args):
    paths = [None if p == "default" else p for p in args.paths.split(",")]
    run_benchmarks(args.architectures.split(","), args.devices.split(","),
                   args.dtypes.split(","), paths, n_steps=args.steps, out=args.out,
                   microcircuit_steps=args.microcircuit_steps)
    return 0
