"""The main job: an LE student and a lagged student learn the same teacher network at a
presentation time shorter than tau_m (the paper's central comparison, on embedded data).

Each student is a 10-30-2 tanh network with tau_m = 10 ms. Samples are shown back to
back for 1 ms (= tau_m / 10) with continuous plasticity; after every epoch both students
are evaluated without nudging or plasticity, reading out the output averaged over the
second half of each presentation. The LE student computes the teacher's function at
once and learns it; the lagged student's output trails its input by about tau_m per
layer, so it is read out (and learns) against the wrong sample.

The second part is the cortical microcircuit (`microcircuit_spiking`): the spiking LE
microcircuit learns the 3x3 bars task at a presentation time far below its membrane time
constant; the figure shows a raster of its pyramidal cells and interneurons and one
pyramidal cell's soma, basal and apical potentials while it learns.
"""

import time
from pathlib import Path

import numpy as np
from brian2 import Hz, ms

from ..engine.validation import check_count
from ..io import save_figure, write_json
from ..networks.layered import LENetwork
from ..networks.microcircuit import Microcircuit
from ..params import MicrocircuitSpiking, Simulation

__all__ = ["teacher_student", "microcircuit_spiking", "run_demo", "plot_teacher_student"]


def _teacher(seed, n_in, n_hidden, n_out, n_samples):
    from ..datasets import load

    return load("teacher", seed=seed, n_in=n_in, n_hidden=n_hidden, n_out=n_out,
                n_train=n_samples[0], n_val=n_samples[1], n_test=n_samples[2])


#: The demo's device and code generation target defaults: the parameter fields'.
_DEVICE = Simulation.fields()["device"].default
_TARGET = Simulation.fields()["codegen_target"].default


def teacher_student(device=_DEVICE, epochs=8, presentation_time=1 * ms,
                    tau_m=10 * ms, dt=0.1 * ms, learning_rate=800 * Hz, beta=0.1,
                    n_hidden=30, n_train=2000, n_test=500, seed=0, readout_fraction=0.5,
                    progress=print, codegen_target=_TARGET):
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


def microcircuit_spiking(device=_DEVICE, epochs=100, presentation_time=5 * ms,
                         n_per_unit=5, r_max=MicrocircuitSpiking.fields()["r_max"].default,
                         seed=12354, order_seed=0,
                         progress=print, codegen_target=_TARGET):
    """The spiking LE microcircuit (9-30-3, self-predicting start) learns the bars task.

    One run presents the 8 patterns once without nudging or plasticity (the accuracy
    before), ``epochs`` seeded permutations of them nudged and learning, and the 8 patterns
    once more without either (the accuracy after). Every pyramidal cell and interneuron is
    ``n_per_unit`` Poisson neurons at ``r_max * phi``; learning rates from
    `le_brian.protocols.bars.bars_learning_rates` for ``presentation_time``.

    Returns
    -------
    dict
        ``accuracy_before``, ``accuracy_after`` (fractions of the 8 patterns), ``n_spikes``
        (per population), ``result`` (the `MicrocircuitResult` with the spikes of ``pyr1``
        and ``int1`` and the soma ``u``, basal ``v_B`` and apical ``v_A`` potentials of
        pyramidal cell 0 every step), the settings.
    """
    from .bars import bars_data, bars_learning_rates

    epochs = check_count("epochs", epochs)
    x, labels, targets = bars_data()
    mc = Microcircuit([9, 30, 3], mode="le", dt=0.1 * ms, init="self_predicting", seed=seed,
                      device=device, codegen_target=codegen_target, spiking=True,
                      n_per_unit=n_per_unit, r_max=r_max,
                      **bars_learning_rates(presentation_time))
    rng = np.random.default_rng(order_seed)
    order = np.concatenate([np.arange(8)] + [rng.permutation(8) for _ in range(epochs)]
                           + [np.arange(8)])
    train = [False] * 8 + [True] * (8 * epochs) + [False] * 8
    t0 = time.perf_counter()
    res = mc.run(x[order], presentation_time, targets=targets[order], nudge=train, learn=train,
                 record={"pyr1": ["u", "v_B", "v_A"]}, record_neurons={"pyr1": [0]},
                 record_every=0.1 * ms, record_spikes=["pyr1", "int1"],
                 report="text" if device != "runtime" else None)
    predicted = np.argmax(res.pattern_outputs, axis=1)
    before = float(np.mean(predicted[:8] == labels))
    after = float(np.mean(predicted[-8:] == labels))
    n_spikes = {pop: int(len(s["i"])) for pop, s in res.spikes.items()}
    progress(f"  spiking microcircuit on bars (T = {float(presentation_time / ms):g} ms, "
             f"{epochs} epochs, {time.perf_counter() - t0:.1f} s): accuracy {before:.2f} -> "
             f"{after:.2f}, {sum(n_spikes.values())} spikes")
    return {"accuracy_before": before, "accuracy_after": after, "n_spikes": n_spikes,
            "epochs": epochs, "presentation_time_ms": float(presentation_time / ms),
            "n_per_unit": int(n_per_unit), "r_max_hz": float(r_max / Hz), "result": res,
            "compiled": mc.n_compiles, "built": mc.n_builds}


def _microcircuit_panels(mc, axes):
    """Raster of the last trained patterns and pyramidal cell 0's compartments in the first
    and the last trained patterns."""
    from matplotlib.ticker import MaxNLocator

    from ..plotting import plot_population_raster, plot_state

    res = mc["result"]
    T = res.presentation_time
    n = res.n_samples
    t_last = res.t_start + (n - 8) * T          # end of the training patterns
    plot_population_raster(res, axes=axes[0], window=(t_last - 4 * T, t_last), markersize=1)
    axes[0].set_title("spiking microcircuit: last 4 training patterns")
    axes[0].xaxis.set_major_locator(MaxNLocator(4))
    for ax, first, name in ((axes[1], 8, "first"), (axes[2], n - 12, "last")):
        sel = slice(first * res.steps_per_sample, (first + 4) * res.steps_per_sample)
        t = res.t[sel]
        for var, label in (("u", "soma u"), ("v_B", "basal v_B"), ("v_A", "apical v_A")):
            plot_state(t, res.states["pyr1"][var][sel, 0], var_name="potential",
                       axes=ax, label=label)
        ax.set_title(f"pyramidal cell 0, {name} 4 training patterns")
        ax.legend(loc="upper right", fontsize=7)


def plot_teacher_student(result, axes):
    """The teacher-student panels of a `teacher_student` result on three axes: the LE and
    the lagged student's test outputs against the teacher, and the learning curves."""
    from ..plotting import plot_learning_curves, plot_output_trace

    for ax, name in zip(axes[:2], ("LE", "lagged")):
        t, out, tgt = result["traces"][name]
        plot_output_trace(t - t[0], out, tgt, ax=ax, label=f"{name} student")
        ax.set_title(f"{name}: test output vs teacher (T = {result['presentation_time_ms']:g} ms)")
    plot_learning_curves(result["histories"], metric="test_mse", ax=axes[2],
                         ylabel="test MSE (dimensionless)", logy=True)
    axes[2].set_title(f"learning curves, tau_m = {result['tau_m_ms']:g} ms")
    return axes


def _figure(result, path, mc=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = 1 if mc is None else 2
    fig, axes = plt.subplots(rows, 3, figsize=(13, 3.6 * rows), constrained_layout=True,
                             squeeze=False)
    if mc is not None:
        _microcircuit_panels(mc, axes[1])
        fig.suptitle(f"top: LE vs lagged students; bottom: spiking LE microcircuit on bars "
                     f"(T = {mc['presentation_time_ms']:g} ms, accuracy "
                     f"{mc['accuracy_before']:.2f} -> {mc['accuracy_after']:.2f} after "
                     f"{mc['epochs']} epochs)")
    plot_teacher_student(result, axes[0])
    save_figure(fig, path, dpi=100 if mc is not None else 120)  # atomic; closes the figure


def run_demo(out_dir="le_brian_demo", device=_DEVICE, epochs=None, fast=False,
             seed=0, codegen_target=_TARGET, microcircuit=True):
    """Run `teacher_student` and `microcircuit_spiking`, print both test errors and the
    microcircuit's accuracy, save ``demo.png`` and ``demo.json`` in ``out_dir``; returns the
    result dict (the microcircuit's under ``"microcircuit"``). ``epochs`` defaults to 8
    (2 with ``fast``, which also shortens the data and runs the microcircuit for 2 epochs
    instead of 100; an explicit ``epochs`` is kept)."""
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
    mc = None
    if microcircuit:
        mc = microcircuit_spiking(device=device, epochs=2 if fast else 100,
                                  codegen_target=codegen_target)
        result["programs"]["compiled"] += mc["compiled"]
        result["programs"]["from_cache"] += mc["built"] - mc["compiled"]
    if device != "runtime":
        p = result["programs"]
        print(f"standalone programs: {p['compiled']} compiled, {p['from_cache']} taken from the "
              f"program cache (le-brian cache info)")
    _figure(result, out / "demo.png", mc)
    serial = {k: v for k, v in result.items() if k != "traces"}
    if mc is not None:
        serial["microcircuit"] = {k: v for k, v in mc.items() if k != "result"}
        result["microcircuit"] = mc
    write_json(out / "demo.json", serial)
    print(f"figure and results written to {out}/ (demo.png, demo.json)")
    return result
