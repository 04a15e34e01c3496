"""
A sweep on a Dask LocalCluster
==============================

The microcircuit's bars protocol (Haider et al. 2021, Fig. 3) at two presentation times,
in LE and original mode: four points, each a task on a local Dask cluster of two worker
processes, written into resumable point folders and aggregated into one table. The same
specification runs from the command line as ``le-brian sweep bars.toml --workers 2``;
a second invocation skips the finished points. Few epochs and the runtime device keep it
short: the paper's figure needs 300 epochs (``scripts/fig_microcircuit_bars.py``).
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np

import le_brian.sweep

spec = {
    "protocol": "bars",
    "fixed": {"epochs": 4, "device": "runtime", "codegen_target": "numpy", "seed": 12354},
    "grid": {"presentation_time": ["1 ms", "10 ms"], "mode": ["le", "original"]},
}
if __name__ == "__main__":
    result = le_brian.sweep.run(spec, workers=2, out=tempfile.mkdtemp(), progress=None,
                                figure=False)
    print(f"{result.n_points} points, {result.n_run} run now, complete: {result.complete}")
    for row in result.rows:
        print({k: row[k] for k in ("presentation_time", "mode", "final_accuracy")})

    # %%
    # Final accuracy of each point (4 epochs: far from converged, Fig. 3 needs 300).
    fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)
    for mode in ("le", "original"):
        rows = [r for r in result.rows if r["mode"] == mode]
        ax.plot([str(r["presentation_time"]) for r in rows],
                [r["final_accuracy"] for r in rows], "o-", label=mode)
    ax.set_xlabel("presentation time")
    ax.set_ylabel("final accuracy (fraction)")
    ax.set_ylim(0, 1.05)
    ax.legend()
    plt.show()
