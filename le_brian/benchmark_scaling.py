"""Evaluation against learning speed and OpenMP thread scaling of the fused dense pass
(cpp_standalone), measured as ratios in one process.

For each thread count one `LENetwork` program is built (``synapses='dense'``); its
learning runs (``learn=True``) and evaluation runs (``learn=False``: the fused pass's
evaluation branch, the same compiled program) are timed alternately, the best of
``repeats`` each, and a one-thread bandwidth probe of the weights' size runs right
after them (`le_brian.bandwidth`): the learning floor counts a read and a write of
every weight per step, the evaluation floor one read. Speed-ups are taken between
entries of the same call. Nothing here asserts a time.

``le-brian benchmark --threads 0,1,2`` (`le_brian.benchmark.run_benchmarks`).
"""

import time

from brian2 import Hz, second

from .bandwidth import floor_steps_per_s, probe_bandwidth, weight_traffic
from .benchmark import _inputs
from .networks import LENetwork

__all__ = ["benchmark_learn_eval", "benchmark_scaling", "scaling_markdown"]


def benchmark_learn_eval(sizes, n_steps=2000, dtype="float64", threads=0, repeats=3,
                         steps_per_sample=10, seed=0):
    """Learning and evaluation steps/s of one cpp_standalone program of ``sizes``
    (dense projections, ``threads`` OpenMP threads; 0: none), timed alternately.

    Returns
    -------
    dict
        ``threads``, ``learn_steps_per_s``, ``eval_steps_per_s`` (the simulation loops'
        own times, best of ``repeats``), ``eval_over_learn``, ``build_seconds`` and
        ``eval_compiled`` (whether the first evaluation run compiled a program: False
        when the evaluation branch came with the learning program).
    """
    net = LENetwork(sizes, activation="hard_sigmoid", seed=seed, device="cpp_standalone",
                    dtype=dtype, learning_rates=100 * Hz, threads=threads,
                    synapses="dense", keep_builds=False)
    n_samples = max(1, n_steps // steps_per_sample)
    n_steps = n_samples * steps_per_sample
    x, y = _inputs(sizes, n_samples, seed)
    T, every = steps_per_sample * net.dt, n_steps * net.dt

    def run(learn):
        net.reset_state()
        t0 = time.perf_counter()
        res = net.run(x, T, targets=y if learn else None, learn=learn, record_every=every)
        wall = time.perf_counter() - t0
        return res, (wall if res.simulation_time is None
                     else float(res.simulation_time / second) or wall)

    t0 = time.perf_counter()
    run(True)
    build = time.perf_counter() - t0
    first_eval, _ = run(False)
    best = {True: float("inf"), False: float("inf")}
    for _ in range(repeats):
        for learn in (True, False):
            best[learn] = min(best[learn], run(learn)[1])
    return {"threads": threads, "learn_steps_per_s": n_steps / best[True],
            "eval_steps_per_s": n_steps / best[False],
            "eval_over_learn": best[True] / best[False], "build_seconds": build,
            "eval_compiled": bool(first_eval.compiled), "n_steps": n_steps}


def benchmark_scaling(architectures, dtypes=("float64",), threads=(0, 1, 2), n_steps=2000,
                      repeats=3, steps_per_sample=10, progress=print):
    """`benchmark_learn_eval` for every architecture x dtype x thread count, each with
    the fraction of the floor (learning and evaluation, from a bandwidth probe run
    right after it) and the speed-ups of learning and evaluation over the same
    architecture's and dtype's entry with one thread (``threads=1``, else the first).

    Parameters
    ----------
    architectures : sequence of list of int
    dtypes : sequence of {'float64', 'float32'}
    threads : sequence of int
        OpenMP thread counts (0: the one-thread program without OpenMP).

    Returns
    -------
    list of dict
        One entry per program: `benchmark_learn_eval`'s figures, ``architecture``,
        ``dtype``, ``probe_bytes_per_s``, ``learn_fraction_of_floor``,
        ``eval_fraction_of_floor``, ``learn_speedup``, ``eval_speedup``.
    """
    entries = []
    for sizes in architectures:
        name = "-".join(map(str, sizes))
        for dtype in dtypes:
            group = []
            for n in threads:
                e = {"architecture": name, "dtype": dtype,
                     **benchmark_learn_eval(sizes, n_steps, dtype, n, repeats,
                                            steps_per_sample)}
                n_bytes = weight_traffic(sizes, "dense_eval", dtype)  # the weights
                bw = probe_bandwidth(n_bytes, dtype)["bytes_per_s"]
                e["probe_bytes_per_s"] = bw
                for learn, key in ((True, "learn"), (False, "eval")):
                    e[f"{key}_fraction_of_floor"] = (
                        e[f"{key}_steps_per_s"] / floor_steps_per_s(sizes, bw, dtype, learn))
                group.append(e)
                progress(f"{name} {dtype} threads={n}: learning {e['learn_steps_per_s']:,.0f} "
                         f"steps/s ({e['learn_fraction_of_floor']:.2f} of the floor), "
                         f"evaluation {e['eval_steps_per_s']:,.0f} steps/s "
                         f"({e['eval_fraction_of_floor']:.2f} of its floor), "
                         f"x{e['eval_over_learn']:.2f}")
            ref = next((e for e in group if e["threads"] == 1), group[0])
            for e in group:
                e["learn_speedup"] = e["learn_steps_per_s"] / ref["learn_steps_per_s"]
                e["eval_speedup"] = e["eval_steps_per_s"] / ref["eval_steps_per_s"]
            entries += group
    return entries


def scaling_markdown(entries):
    """`benchmark_scaling`'s entries as a Markdown table."""
    lines = ["| network | dtype | threads | learning steps/s | of floor | evaluation steps/s "
             "| of floor | eval/learn | learning x | evaluation x |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in entries:
        lines.append(
            f"| {e['architecture']} | {e['dtype']} | {e['threads']} | "
            f"{e['learn_steps_per_s']:,.0f} | {e['learn_fraction_of_floor']:.2f} | "
            f"{e['eval_steps_per_s']:,.0f} | {e['eval_fraction_of_floor']:.2f} | "
            f"x{e['eval_over_learn']:.2f} | x{e['learn_speedup']:.2f} | "
            f"x{e['eval_speedup']:.2f} |")
    return ("Evaluation (learn=False) next to learning, one program per thread count; "
            "floors from a one-thread bandwidth probe (learning: a read and a write of "
            "every weight per step, evaluation: one read); x: over threads=1.\n\n"
            + "\n".join(lines) + "\n")
