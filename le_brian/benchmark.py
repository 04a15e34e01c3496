"""Speed benchmarks: steps/s, samples/s and synapse updates/s of LE networks per device
and projection path, against a dense NumPy Euler loop of the same equations run in the
same process (the baseline of every ratio), and as a fraction of the memory-traffic
floor measured in the same run (`le_brian.bandwidth`: bytes per step, a bandwidth
probe). Absolute numbers depend on the machine; the JSON output records it. Nothing
here asserts a time.

``le-brian benchmark`` or ``scripts/benchmark.py``.
"""

import contextlib
import os
import platform
import shutil
import subprocess
import time

import numpy as np
from brian2 import Hz, ms, second

from .engine.registry import DTYPES
from .bandwidth import floor_steps_per_s, probe_bandwidth, weight_traffic
from .io import write_json
from .networks import LENetwork, Microcircuit
from .numpy_reference.dense_loop import DenseNumpyLoop
from .numpy_reference.microcircuit import benchmark_numpy_microcircuit
from .protocols.bars import bars_data, bars_learning_rates

__all__ = ["benchmark_layered", "benchmark_numpy", "benchmark_spiking",
           "machine_info", "run_benchmarks",
           "available_devices", "dense_over_plain", "markdown_table", "summary_table",
           "benchmark_microcircuit", "ARCHITECTURES"]

#: Benchmark architecture name -> layer sizes.
ARCHITECTURES = {
    "784-100-10": [784, 100, 10],
    "784-300-100-10": [784, 300, 100, 10],
    "784-1000-1000-10": [784, 1000, 1000, 10],
}


def machine_info():
    """Platform, processor, core count and package versions of this machine (a dict)."""
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


def _single_thread_blas():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def benchmark_numpy(sizes, n_steps, learn=True, seed=0, steps_per_sample=10):
    """Steps/s of the dense NumPy loop (`DenseNumpyLoop`, float64), a new input every
    ``steps_per_sample`` steps, BLAS on one thread (as the compiled programs; on a
    shared 2-core machine more BLAS threads were up to 40x slower)."""
    net = LENetwork(sizes, activation="hard_sigmoid", seed=seed, codegen_target="numpy",
                    device="runtime")
    w, b = net.get_parameters().values()
    loop = DenseNumpyLoop(w, b)
    n_samples = max(1, n_steps // steps_per_sample)
    x, y = _inputs(sizes, n_samples, seed)
    with _single_thread_blas():
        t0 = time.perf_counter()
        for k in range(n_samples * steps_per_sample):
            s = k // steps_per_sample
            loop.step(x[s], y[s] if learn else None, learn)
        elapsed = time.perf_counter() - t0
    n = n_samples * steps_per_sample
    return {"steps_per_s": n / elapsed, "samples_per_s": n / elapsed / steps_per_sample,
            "seconds": elapsed, "n_steps": n}


def benchmark_layered(sizes, n_steps, device="cpp_standalone", learn=True, dtype="float64",
                      synapses=None, seed=0, repeats=2, steps_per_sample=10):
    """Build once, then time reruns of ``n_steps`` steps (a new input every
    ``steps_per_sample`` steps). ``sizes``: layer sizes or layer specifications
    (`le_brian.LENetwork`); ``synapse_updates_per_s`` counts dense weights only.

    Returns build seconds (generation + compilation + first run), the best rerun wall
    time (the whole rerun: writing inputs and weights, starting the program, reading
    results back) with its steps/s (``wall_steps_per_s``), and the simulation loop's
    own time (measured inside the compiled program; runtime: the run's wall time) with
    steps/s, samples/s and synapse updates/s (``steps_per_s``, ``samples_per_s``,
    ``synapse_updates_per_s``).
    """
    kw = {} if synapses is None else {"synapses": synapses}
    net = LENetwork(sizes, activation="hard_sigmoid", seed=seed, device=device, dtype=dtype,
                    learning_rates=100 * Hz, keep_builds=False, **kw)
    sizes = net.layer_sizes  # a list of layer specifications: their flat sizes
    n_samples = max(1, n_steps // steps_per_sample)
    n_steps = n_samples * steps_per_sample
    x, y = _inputs(sizes, n_samples, seed)
    targets = y if learn else None
    T = steps_per_sample * net.dt
    every = n_steps * net.dt
    t0 = time.perf_counter()
    first = net.run(x, T, targets=targets, learn=learn, record_every=every)
    build = time.perf_counter() - t0
    runs, loops = [], []
    for _ in range(repeats):
        net.reset_state()
        t1 = time.perf_counter()
        res = net.run(x, T, targets=targets, learn=learn, record_every=every)
        runs.append(time.perf_counter() - t1)
        loops.append(float(res.simulation_time / second) if res.simulation_time is not None
                     else runs[-1])
    best, loop = min(runs), min(loops)
    return {"build_seconds": build, "compiled": first.compiled, "rerun_seconds": best,
            "loop_seconds": loop, "steps_per_s": n_steps / loop,
            "samples_per_s": n_steps / loop / steps_per_sample,
            "wall_steps_per_s": n_steps / best,
            "synapse_updates_per_s": n_steps * _n_synapses(sizes) / loop, "n_steps": n_steps,
            "steps_per_sample": steps_per_sample}


def parse_architecture(arch):
    """``'784-100-10'`` or a list of ints -> list of layer sizes."""
    if isinstance(arch, str):
        try:
            sizes = [int(n) for n in arch.split("-")]
        except ValueError:
            sizes = []
    else:
        sizes = [int(n) for n in arch]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"architecture must be layer sizes like '784-100-10', got {arch!r}")
    return sizes


def available_devices():
    """Devices this machine can run: runtime and cpp_standalone always,
    cuda_standalone when brian2cuda is installed and ``nvidia-smi`` lists a GPU."""
    devices = ["runtime", "cpp_standalone"]
    try:
        import brian2cuda  # noqa: F401

        smi = shutil.which("nvidia-smi")
        if smi and subprocess.run([smi, "-L"], capture_output=True, timeout=30).stdout.strip():
            devices.append("cuda_standalone")
    except (ImportError, OSError, subprocess.SubprocessError):
        pass
    return devices


def run_benchmarks(architectures=tuple(ARCHITECTURES), devices=None, dtypes=DTYPES,
                   synapse_paths=("dense", "dense_unfused", "plain"), learn=(True, False),
                   n_steps=2000,
                   runtime_steps=200, numpy_steps=300, steps_per_sample=10, out=None,
                   progress=print, microcircuit_steps=100_000, spiking_steps=0, repeats=3,
                   threads=(), conv_steps=0):
    """Run the grid and return (and optionally write as JSON) every figure.

    For every architecture and learning switch: the dense NumPy Euler loop (the
    baseline of every ratio, run in the same process), then each device x dtype x
    projection path (the best of ``repeats`` reruns). ``runtime`` runs the numpy target
    for ``runtime_steps`` steps.
    Every entry carries its weight traffic per step (``bytes_per_step``,
    `le_brian.bandwidth.weight_traffic`) and the effective bandwidth; cpp_standalone
    and NumPy entries also the floor (``floor_steps_per_s``) from a bandwidth probe of
    the architecture's weight size and dtype run right after the entry in the same
    process (``probe_bytes_per_s``; all probes in ``results['bandwidth']``) and
    ``fraction_of_floor`` (without learning: the evaluation floor, one read of the
    weights). ``threads`` (OpenMP thread counts, e.g. ``(0, 1, 2)``): also
    `le_brian.benchmark_scaling.benchmark_scaling` on cpp_standalone (evaluation next
    to learning per thread count, ``results['scaling']``). The JSON is rewritten after
    every entry, so an interrupted run keeps what it measured. ``conv_steps`` (> 0, with
    cpp_standalone): also the LeNet-5 convolution projections alone
    (`le_brian.benchmark_conv.benchmark_lenet5_convs`, ``results['conv']``). Returns
    ``{'machine', 'entries', 'bandwidth', 'microcircuit', 'ratios'}``.
    """
    devices = available_devices() if devices is None else list(devices)
    if "cuda_standalone" in devices:
        from .engine.devices import configure_cuda_build

        configure_cuda_build()
    results = {"machine": machine_info(), "devices": devices, "n_steps": n_steps,
               "numpy_baseline": "DenseNumpyLoop, float64, BLAS on 1 thread",
               "steps_per_sample": steps_per_sample, "entries": [], "bandwidth": [],
               "microcircuit": [], "ratios": []}
    broken_probe = []

    def traffic(entry, sizes):
        """Bytes per step, effective bandwidth and (one-thread CPU entries) the floor,
        from a bandwidth probe run right after the entry's timed runs (this machine's
        speed drifts with its neighbours' load: an adjacent probe compares like with
        like)."""
        # the runtime device runs Brian2's templates on every path; without learning the
        # fused C++ pass reads the weights once (its evaluation branch)
        path = "plain" if entry["device"] == "runtime" else entry["path"]
        if path == "dense" and not entry["learn"] and entry["device"] == "cpp_standalone":
            path = "dense_eval"
        entry["bytes_per_step"] = weight_traffic(sizes, path, entry["dtype"])
        entry["bytes_per_s"] = entry["bytes_per_step"] * entry["steps_per_s"]
        if entry["device"] not in ("numpy", "cpp_standalone") or broken_probe:
            return
        n_bytes = weight_traffic(sizes, "dense", entry["dtype"]) // 2  # the weights
        try:
            probe = probe_bandwidth(n_bytes, entry["dtype"])
        except RuntimeError as err:  # no compiler: no floor, the rest stands
            broken_probe.append(err)
            progress(f"bandwidth probe: {err}")
            return
        results["bandwidth"].append({"architecture": entry["architecture"],
                                     "path": entry["path"], **probe})
        entry["probe_bytes_per_s"] = probe["bytes_per_s"]
        entry["floor_steps_per_s"] = floor_steps_per_s(sizes, probe["bytes_per_s"],
                                                       entry["dtype"], entry["learn"])
        entry["fraction_of_floor"] = entry["steps_per_s"] / entry["floor_steps_per_s"]

    def save():
        if out is not None:
            write_json(out, results)  # atomic (le_brian.io)

    for arch in architectures:
        sizes = parse_architecture(arch)
        name = "-".join(map(str, sizes))
        for lrn in learn:
            base = benchmark_numpy(sizes, numpy_steps, learn=lrn,
                                   steps_per_sample=steps_per_sample)
            entry = {"architecture": name, "learn": lrn, "path": "numpy-loop", "device": "numpy",
                     "dtype": "float64", "synapse_updates_per_s":
                     base["steps_per_s"] * _n_synapses(sizes), **base, "ratio_to_numpy": 1.0}
            traffic(entry, sizes)
            results["entries"].append(entry)
            progress(_fmt(entry))
            for device in devices:
                steps = runtime_steps if device == "runtime" else n_steps
                for dtype in dtypes:
                    for path in synapse_paths:
                        r = benchmark_layered(sizes, steps, device, lrn, dtype, path,
                                              steps_per_sample=steps_per_sample,
                                              repeats=repeats)
                        entry = {"architecture": name, "learn": lrn, "path": path,
                                 "device": device, "dtype": dtype, **r,
                                 "ratio_to_numpy": r["steps_per_s"] / base["steps_per_s"]}
                        traffic(entry, sizes)
                        results["entries"].append(entry)
                        progress(_fmt(entry))
                        save()
    results["ratios"] = dense_over_plain(results["entries"])
    for r in results["ratios"]:
        progress(f"dense/plain {r['architecture']:>16s} learn={str(r['learn']):5s} "
                 f"{r['device']:>15s} {r['dtype']}: " + ", ".join(
                     f"{name.replace('_over_', '/')} x{r[name]:.2f}"
                     for name in ("dense_over_plain", "dense_over_unfused") if name in r))
    if threads and "cpp_standalone" in devices:
        from .benchmark_scaling import benchmark_scaling

        results["scaling"] = benchmark_scaling(
            [parse_architecture(a) for a in architectures], dtypes, threads, n_steps,
            repeats, steps_per_sample, progress)
        save()
    if conv_steps and "cpp_standalone" in devices:
        from .benchmark_conv import benchmark_lenet5, benchmark_lenet5_convs

        results["conv"] = benchmark_lenet5_convs(conv_steps, repeats, progress=progress)
        save()
        results["lenet5"] = [benchmark_lenet5(conv_steps, dtype, repeats, progress=progress)
                             for dtype in dtypes]
        save()
    if microcircuit_steps:
        for device in devices:
            if device == "runtime":
                continue
            for path in synapse_paths:
                r = benchmark_microcircuit(microcircuit_steps, device, synapses=path)
                results["microcircuit"].append(r)
                progress(f"microcircuit bars 9-30-3 {device} {path}: "
                         f"{r['device_steps_per_s']:.0f} steps/s, NumPy loop "
                         f"{r['numpy_steps_per_s']:.0f} steps/s (x{r['ratio']:.1f})")
                save()
    if spiking_steps:
        results["spiking"] = []
        for device in devices:
            if device == "runtime":
                continue
            for r in benchmark_spiking(spiking_steps, device):
                results["spiking"].append(r)
                progress(f"spiking {r['network']} {device}: rate {r['rate_steps_per_s']:.0f}, "
                         f"spiking {r['spiking_steps_per_s']:.0f} steps/s (x"
                         f"{r['overhead']:.2f} slower), {r['spikes_per_s']:.3g} spikes/s")
                save()
    save()
    if out is not None:
        progress(f"wrote {out}")
    return results


def dense_over_plain(entries):
    """Steps/s ratios of the dense path over plain (``dense_over_plain``) and over the
    unfused dense path (``dense_over_unfused``, where it ran) for every (architecture,
    learn, device, dtype)."""
    index = {(e["architecture"], e["learn"], e["device"], e["dtype"], e["path"]): e
             for e in entries}
    ratios = []
    for (arch, lrn, device, dtype, path), e in index.items():
        if path != "dense":
            continue
        ratio = {}
        for other in ("plain", "dense_unfused"):
            ref = index.get((arch, lrn, device, dtype, other))
            if ref is not None:
                name = "dense_over_plain" if other == "plain" else "dense_over_unfused"
                ratio[name] = e["steps_per_s"] / ref["steps_per_s"]
        if ratio:
            ratios.append({"architecture": arch, "learn": lrn, "device": device,
                           "dtype": dtype, **ratio})
    return ratios


def _drop_empty_columns(lines):
    """A Markdown table (header, separator, rows) without the columns that are empty in
    every row (e.g. a device or dtype that did not run)."""
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    keep = [k for k in range(len(cells[0]))
            if k < 2 or any(k < len(row) and row[k] for row in cells[2:])]
    return ["| " + " | ".join(row[k] for k in keep) + " |" for row in cells]


def summary_table(results, device="cpp_standalone"):
    """Compact Markdown table: steps/s per network and learning switch for the NumPy
    loop, the runtime device and ``device`` (plain, dense unfused and dense, float64 and
    float32), the fraction of the memory-traffic floor reached by the dense path, and
    the build time of the dense float64 program."""
    index = {(e["architecture"], e["learn"], e["device"], e["path"], e["dtype"]): e
             for e in results["entries"]}
    cells = ["NumPy loop", "runtime plain"]
    for dt in ("f64", "f32"):
        cells += [f"plain {dt}", f"unfused {dt}", f"dense {dt}", "dense/unfused",
                  "of floor"]
    lines = [f"| network | learn | {' | '.join(cells)} | build s |",
             "|---|---|" + "---:|" * (len(cells) + 1)]
    seen = []
    for e in results["entries"]:
        key = (e["architecture"], e["learn"])
        if key in seen:
            continue
        seen.append(key)

        def entry(dev, path, dtype, key=key):
            return index.get((*key, dev, path, dtype), {})

        def fmt(v):
            return "" if v is None else f"{v:,.0f}"

        row = [fmt(entry("numpy", "numpy-loop", "float64").get("steps_per_s")),
               fmt(entry("runtime", "plain", "float64").get("steps_per_s"))]
        for dtype in DTYPES:
            plain, unfused, dense = (entry(device, path, dtype)
                                     for path in ("plain", "dense_unfused", "dense"))
            rate = [x.get("steps_per_s") for x in (plain, unfused, dense)]
            row += [fmt(r) for r in rate]
            row.append("" if None in rate[1:] else f"x{rate[2] / rate[1]:.2f}")
            frac = dense.get("fraction_of_floor")
            row.append("" if frac is None else f"{frac:.2f}")
        first = entry(device, "dense", "float64")
        build = first.get("build_seconds") if first.get("compiled") else None
        lines.append(f"| {key[0]} | {'on' if key[1] else 'off'} | {' | '.join(row)} | "
                     f"{'' if build is None else f'{build:.1f}'} |")
    return "\n".join(_drop_empty_columns(lines)) + "\n"


def markdown_table(results):
    """The benchmark as a Markdown table (steps/s, ratio to the NumPy loop, build and
    rerun seconds), with the machine it ran on."""
    m = results["machine"]
    head = [f"Machine: {m.get('cpu', m['processor'])}, {m['cpu_count']} cores, "
            f"Python {m['python']}, Brian2 {m['brian2']}, NumPy {m['numpy']}; "
            f"{results['n_steps']} steps, a new input every "
            f"{results['steps_per_sample']} steps.", "", summary_table(results)]
    groups = {}
    for probe in results.get("bandwidth", []):
        groups.setdefault((probe["architecture"], probe["dtype"], probe["n_bytes"]),
                          []).append(probe["bytes_per_s"] / 1e9)
    for (arch, dtype, n_bytes), rates in groups.items():
        head.append(f"Bandwidth probe ({arch}, {dtype}, {n_bytes / 1e6:.2f} MB, one thread, "
                    f"read+write, after each entry): {min(rates):.1f}-{max(rates):.1f} GB/s.  ")
    if groups:
        head.append("")
    lines = ["| network | learn | device | path | dtype | steps/s | samples/s "
             "| synapse updates/s | MB/step | GB/s | of floor | x NumPy loop | build s "
             "| rerun s |",
             "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in results["entries"]:
        build = f"{e['build_seconds']:.1f}" if e.get("compiled") else ""
        rerun = f"{e['rerun_seconds']:.2f}" if "rerun_seconds" in e else ""
        floor = f"{e['fraction_of_floor']:.2f}" if "fraction_of_floor" in e else ""
        moved = (f"{e['bytes_per_step'] / 1e6:.2f} | {e['bytes_per_s'] / 1e9:.1f}"
                 if "bytes_per_step" in e else " | ")
        lines.append(f"| {e['architecture']} | {'on' if e['learn'] else 'off'} | "
                     f"{e['device']} | {e['path']} | {e['dtype']} | {e['steps_per_s']:,.0f} | "
                     f"{e['samples_per_s']:,.0f} | {e['synapse_updates_per_s']:.3g} | "
                     f"{moved} | {floor} | {e['ratio_to_numpy']:.3g} | {build} | {rerun} |")
    lines = head + _drop_empty_columns(lines)
    if results.get("scaling"):
        from .benchmark_scaling import scaling_markdown

        lines += ["", scaling_markdown(results["scaling"])]
    if results.get("conv"):
        from .benchmark_conv import conv_markdown

        lines += ["", conv_markdown(results["conv"])]
    if results.get("microcircuit"):
        lines += ["", "| microcircuit bars 9-30-3 | path | steps/s | NumPy loop steps/s "
                  "| ratio |", "|---|---|---:|---:|---:|"]
        for r in results["microcircuit"]:
            lines.append(f"| {r['device']} | {r['synapses']} | {r['device_steps_per_s']:,.0f} | "
                         f"{r['numpy_steps_per_s']:,.0f} | {r['ratio']:.1f} |")
    if results.get("spiking"):
        lines += ["", "| spiking (n_per_unit = 1) | device | rate steps/s | spiking steps/s "
                  "| overhead | spikes/step | spikes/s |", "|---|---|---:|---:|---:|---:|---:|"]
        for r in results["spiking"]:
            lines.append(f"| {r['network']} | {r['device']} | {r['rate_steps_per_s']:,.0f} | "
                         f"{r['spiking_steps_per_s']:,.0f} | x{r['overhead']:.2f} | "
                         f"{r['spikes_per_step']:.1f} | {r['spikes_per_s']:.3g} |")
    return "\n".join(lines) + "\n"


def _fmt(e):
    s = (f"{e['architecture']:>18s} learn={str(e['learn']):5s} {e['device']:>15s} "
         f"{e['path']:>13s} {e['dtype']:>7s}: {e['steps_per_s']:9.0f} steps/s "
         f"(x{e['ratio_to_numpy']:.3g} NumPy loop)")
    if "fraction_of_floor" in e:
        s += (f", {e['bytes_per_s'] / 1e9:.1f} GB/s, {e['fraction_of_floor']:.2f} of the floor "
              f"({e['floor_steps_per_s']:,.0f} steps/s at {e['probe_bytes_per_s'] / 1e9:.1f} "
              "GB/s)")
    if "build_seconds" in e:
        s += f"  build {e['build_seconds']:.1f} s, rerun {e['rerun_seconds']:.3f} s"
    return s


def benchmark_microcircuit(n_steps=100_000, device="cpp_standalone", numpy_steps=None,
                           simulator=None, synapses="dense"):
    """Steps/s of the bars 9-30-3 microcircuit (LE mode, learning on, nudged) on a
    Brian2 device (``synapses``: projection path) and of the NumPy loop
    (`le_brian.numpy_reference.microcircuit`) in the same process.

    The device run is timed on a second run of the compiled program (compilation
    excluded); ``numpy_steps`` (default ``min(n_steps, 20000)``) sets the NumPy loop's
    length.

    Returns
    -------
    dict
        ``device``, ``steps``, ``device_steps_per_s``, ``numpy_steps_per_s``, ``ratio``,
        ``build_time`` (s).
    """
    if not isinstance(n_steps, (int, np.integer)) or n_steps < 8:
        raise ValueError(f"n_steps must be an int >= 8, got {n_steps!r}")
    T = 1 * ms
    rates = bars_learning_rates(T)
    net = Microcircuit([9, 30, 3], mode="le", device=device, simulator=simulator,
                       synapses=synapses, **rates)
    x, _, y = bars_data()
    steps = n_steps // 8
    first = net.run(x, steps * net.dt, targets=y, record={})
    t0 = time.perf_counter()
    res = net.run(x, steps * net.dt, targets=y, record={})
    wall = time.perf_counter() - t0
    dev_rate = steps * 8 / (float(res.run_time / second) or wall)
    g = net.conductances
    np_rate = benchmark_numpy_microcircuit(
        Microcircuit([9, 30, 3], **rates).get_parameters(),
        numpy_steps or min(n_steps, 20000), mode="le",
        g_l=float(g["g_l"]), g_b=float(g["g_b"]), g_a=float(g["g_a"]),
        g_som=float(g["g_som"]), eta_up=[float(e) for e in rates["eta_up"]],
        eta_ip=[float(e) for e in rates["eta_ip"]], eta_pi=[0.0], dt=float(net.dt))
    return {"device": device, "synapses": synapses, "steps": steps * 8,
            "device_steps_per_s": dev_rate,
            "numpy_steps_per_s": np_rate, "ratio": dev_rate / np_rate,
            "build_time": float(first.build_time / second), "wall_time_second_run": wall}


def benchmark_spiking(n_steps=20_000, device="cpp_standalone", n_per_unit=1):
    """The cost of spikes (docs/model.md §5), rate vs spiking in the same process, both
    learning: the bars microcircuit 9-30-3 (LE, nudged, r_max 2 kHz) and a 784-100-10
    hard_sigmoid LENetwork (r_max 10 kHz, a new input every 10 steps).

    Each network is built once and timed on a second run (compilation excluded; the
    simulation loop's own time where the device measures it).

    Returns
    -------
    list of dict
        Per network: ``network``, ``rate_steps_per_s``, ``spiking_steps_per_s``,
        ``overhead`` (rate / spiking steps/s), ``spikes_per_s`` (simulated spikes per
        wall second), ``spikes_per_step``, ``n_per_unit``.
    """
    if not isinstance(n_steps, (int, np.integer)) or n_steps < 80:
        raise ValueError(f"n_steps must be an int >= 80, got {n_steps!r}")
    x_bars, _, y_bars = bars_data()
    sizes = [784, 100, 10]
    x_le, y_le = _inputs(sizes, n_steps // 10)
    cases = {
        "bars microcircuit 9-30-3": (
            lambda **kw: Microcircuit([9, 30, 3], mode="le", device=device,
                                      **bars_learning_rates(1 * ms), **kw),
            lambda net, spikes: net.run(x_bars, (n_steps // 8) * net.dt, targets=y_bars,
                                        record={}, record_spikes=spikes)),
        "LE 784-100-10": (
            lambda **kw: LENetwork(sizes, activation="hard_sigmoid",
                                   output_activation="hard_sigmoid", device=device,
                                   learning_rates=100 * Hz, **kw),
            lambda net, spikes: net.run(x_le, 10 * net.dt, targets=y_le,
                                        record_every=len(x_le) * 10 * net.dt,
                                        record_spikes=spikes)),
    }
    out = []
    for name, (make, run) in cases.items():
        speeds, n_spikes = {}, 0
        for spiking in (False, True):
            kw = dict(spiking=True, n_per_unit=n_per_unit) if spiking else {}
            net = make(**kw)
            run(net, False)  # build (and compile) once
            res = run(net, False)  # timed: no monitor
            seconds = float((res.simulation_time if res.simulation_time is not None
                             else res.run_time) / second)
            steps = int(round(float(res.presentation_time / res.dt))) * res.n_samples
            speeds[spiking] = steps / seconds
            if spiking:  # the spikes of an equal run (with a spike monitor, not timed)
                recorded = run(net, True)
                n_spikes = sum(len(s["i"]) for s in recorded.spikes.values())
                spike_seconds = seconds
        out.append({"network": name, "device": device, "n_per_unit": n_per_unit,
                    "steps": steps, "rate_steps_per_s": speeds[False],
                    "spiking_steps_per_s": speeds[True],
                    "overhead": speeds[False] / speeds[True],
                    "spikes_per_step": n_spikes / steps,
                    "spikes_per_s": n_spikes / spike_seconds})
    return out
