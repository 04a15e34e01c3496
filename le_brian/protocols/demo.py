"""The main job: an LE student and a lagged student learn the same teacher network at a
presentation time shorter than tau_m (the paper's central comparison, on embedded data).

Each student is a 10-30-2 tanh network with tau_m = 10 ms. Samples are shown back to
back for 1 ms (= tau_m / 10) with continuous plasticity; after every epoch both students
are evaluated without nudging or plasticity, reading out the output averaged over the
second half of each presentation. The LE student computes the teacher's function at
once and learns it; the lagged student's output trails its input by about tau_m per
layer, so it is read out (and learns) against the wrong sample.
"""

import time
from pathlib import Path

import numpy as np
from brian2 import Hz, ms

from ..engine.validation import check_count
from ..io import save_figure, write_json
from ..networks.layered import LENetwork

__all__ = ["teacher_student", "run_demo"]


def _teacher(seed, n_in, n_hidden, n_out, n_samples):
    from ..datasets import load

    return load("teacher", seed=seed, n_in=n_in, n_hidden=n_hidden, n_out=n_out,
                n_train=n_samples[0], n_val=n_samples[1], n_test=n_samples[2])


def teacher_student(device="cpp_standalone", epochs=8, presentation_time=1 * ms,
                    tau_m=10 * ms, dt=0.1 * ms, learning_rate=800 * Hz, beta=0.1,
                    n_hidden=30, n_train=2000, n_test=500, seed=0, readout_fraction=0.5,
                    progress=print, codegen_target="auto"):
    """Train an LE and a lagged student on the same teacher; return the histories.

    Returns
    -------
    dict
        ``histories[name]``: list of per-epoch dicts (``test_mse``, ``train_seconds``),
        ``traces[name]``: (t as a Quantity, output, target) of the last evaluation's first
        samples, and the settings.
    """
    epochs = check_count("epochs", epochs)
    n_train, n_test = check_count("n_train", n_train, 1), check_count("n_test", n_test, 1)
    data = _teacher(seed, 10, 20, 2, (n_train, 0, n_test))
    sizes = [data.n_features, n_hidden, data.n_outputs]
    histories, traces, programs = {}, {}, {"compiled": 0, "from_cache": 0}
    for name, prospective in (("LE", True), ("lagged", False)):
        net = LENetwork(sizes, activation="tanh", output_activation="linear", tau_m=tau_m,
                        prospective=prospective, beta=beta, dt=dt, seed=seed + 1,
                        learning_rates=[learning_rate, learning_rate], device=device,
                        codegen_target=codegen_target)
        rng = np.random.default_rng(seed + 2)
        hist = []
        for epoch in range(epochs + 1):
            t0 = time.perf_counter()
            if epoch > 0:
                order = rng.permutation(n_train)
                net.run(data.x_train[order], presentation_time, targets=data.y_train[order],
                        report="text" if net.n_builds == 0 and device != "runtime" else None)
            t1 = time.perf_counter()
            res = net.run(data.x_test, presentation_time, learn=False)
            pred = res.sample_means(readout_fraction)
            mse = float(np.mean((pred - data.y_test) ** 2))
            hist.append({"epoch": epoch, "test_mse": mse, "train_seconds": t1 - t0})
            progress(f"  {name:7s} epoch {epoch:2d}: test MSE {mse:.4f}"
                     + (f"  ({(t1 - t0) * 1e3:.0f} ms training)" if epoch
                        else "  (before training)"))
        histories[name] = hist
        programs["compiled"] += net.n_compiles
        programs["from_cache"] += net.n_builds - net.n_compiles
        n_show = 8
        k = n_show * res.steps_per_sample
        traces[name] = (res.t[:k], res.output[:k, 0],
                        np.repeat(data.y_test[:n_show, 0], res.steps_per_sample))
    return {"histories": histories, "traces": traces, "sizes": sizes,
            "presentation_time_ms": float(presentation_time / ms), "tau_m_ms": float(tau_m / ms),
            "epochs": epochs, "device": device, "seed": seed, "programs": programs}


def _figure(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_learning_curves, plot_output_trace

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True)
    for ax, name in zip(axes[:2], ("LE", "lagged")):
        t, out, tgt = result["traces"][name]
        plot_output_trace(t - t[0], out, tgt, ax=ax, label=f"{name} student")
        ax.set_title(f"{name}: test output vs teacher (T = {result['presentation_time_ms']:g} ms)")
    plot_learning_curves(result["histories"], metric="test_mse", ax=axes[2],
                         ylabel="test MSE (dimensionless)", logy=True)
    axes[2].set_title(f"learning curves, tau_m = {result['tau_m_ms']:g} ms")
    save_figure(fig, path, dpi=120)  # atomic; closes the pyplot figure


def run_demo(out_dir="le_brian_demo", device="cpp_standalone", epochs=None, fast=False,
             seed=0, codegen_target="auto"):
    """Run `teacher_student`, print both test errors, save ``demo.png`` and
    ``demo.json`` in ``out_dir``; returns the result dict. ``epochs`` defaults to 8
    (2 with ``fast``, which also shortens the data; an explicit ``epochs`` is kept)."""
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if epochs is None:
        epochs = 2 if fast else 8
    kw = dict(n_train=400, n_test=100, epochs=epochs) if fast else dict(epochs=epochs)
    print(f"le_brian demo: teacher-student regression, LE vs lagged students, device={device}")
    result = teacher_student(device=device, seed=seed, codegen_target=codegen_target, **kw)
    le, lagged = (result["histories"][k][-1]["test_mse"] for k in ("LE", "lagged"))
    print(f"test MSE after {result['epochs']} epochs at T = {result['presentation_time_ms']:g} ms "
          f"(tau_m = {result['tau_m_ms']:g} ms): LE {le:.4f}, lagged {lagged:.4f}")
    if device != "runtime":
        p = result["programs"]
        print(f"standalone programs: {p['compiled']} compiled, {p['from_cache']} taken from the "
              f"program cache (le-brian cache info)")
    _figure(result, out / "demo.png")
    serial = {k: v for k, v in result.items() if k != "traces"}
    write_json(out / "demo.json", serial)
    print(f"figure and results written to {out}/ (demo.png, demo.json)")
    return result
