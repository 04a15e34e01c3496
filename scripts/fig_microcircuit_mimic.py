#!/usr/bin/env python
"""Paper Fig. 5: a 1-1-1 microcircuit student learns to mimic a 1-1-1 teacher
(docs/model.md §3.6; `le_brian.protocols.mimic.run_mimic`).

Phase 1 (self-prediction, 3 epochs): the student's interneuron learns W_ip -> W_up of
the output and W_pi -> -W_down, so the apical potential decays to ~0. Phase 2 (training,
--epochs epochs of 6 nudged + 6 free patterns): W_up approaches the teacher's, W_ip keeps
tracking W_up(output), the validation error falls.

Panels: student weights against the teacher's, W_ip against W_up(output), -W_pi against
W_down, the apical potential |v_A|, the validation error. Writes <out>/microcircuit_mimic
.png and .json. The default (500 epochs, 600k steps of dt = 0.01 ms) takes seconds on
cpp_standalone (plus ~30 s of compilation per phase shape); --fast: 30 epochs.
"""

import argparse
import time

import numpy as np

from le_brian.cli.script_helpers import (add_common_arguments, add_field_argument, save_figure,
                                         write_json)
from le_brian.params import MicrocircuitParameters


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=500, help="training epochs (default 500)")
    add_field_argument(p, MicrocircuitParameters.fields()["mode"])
    add_common_arguments(p, out="figures", out_help="output folder",
                         fast_help="CI mode: 30 epochs")
    args = p.parse_args(argv)
    if args.fast:
        args.epochs = 30
    if args.epochs < 1:
        p.error("--epochs must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    from brian2 import ms

    from le_brian.protocols.mimic import run_mimic

    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = run_mimic(mode=args.mode, epochs=args.epochs, device=args.device,
                    record_every=0.1 * ms)
    wall = time.perf_counter() - t0
    teacher, student = res["teacher"], res["student"]
    summary = {
        "mode": args.mode, "epochs": args.epochs, "device": args.device, "wall_s": wall,
        "teacher": {k: [w.tolist() for w in v] for k, v in teacher.items()},
        "student_final": {k: [w.tolist() for w in v] for k, v in student.items()},
        "val_error_first": float(res["training"]["val_error"][0]),
        "val_error_last": float(res["training"]["val_error"][-1]),
        "abs_v_A_end_of_self_prediction": float(abs(res["self_prediction"]["v_A"][-1])),
        "abs_v_A_end_of_training": float(abs(res["training"]["v_A"][-1])),
        "val_error": res["training"]["val_error"].tolist(),
    }
    name = "microcircuit_mimic_fast" if args.fast else "microcircuit_mimic"
    write_json(args.out / f"{name}.json", summary, indent=1)
    plot(res, args, args.out / f"{name}.png")
    print(f"validation error {summary['val_error_first']:.3g} -> {summary['val_error_last']:.3g}; "
          f"|v_A| end of self-prediction {summary['abs_v_A_end_of_self_prediction']:.2e}; "
          f"wall {wall:.1f} s")
    print(f"wrote {args.out / (name + '.json')} and .png")


def plot(res, args, png):
    from brian2 import ms
    from matplotlib.figure import Figure

    from le_brian.plotting import plot_state

    sp, tr = res["self_prediction"], res["training"]
    t_sp = sp["t_weights"] * 1e3  # network time continues across the two runs
    t_tr = tr["t_weights"] * 1e3
    tw = np.concatenate([t_sp, t_tr]) * ms

    def series(name):
        return np.concatenate([sp["weights"][name], tr["weights"][name]])

    teacher = res["teacher"]
    fig = Figure(figsize=(14, 7), layout="constrained")
    axes = fig.subplots(2, 3)
    ax = axes[0, 0]
    for name, k, color in (("W_up1", 0, "tab:blue"), ("W_up2", 1, "tab:orange")):
        plot_state(tw, series(name), var_name="weight", axes=ax, color=color,
                   label=f"student {name}")
        ax.axhline(teacher["W_up"][k][0, 0], color=color, ls="--", label=f"teacher {name}")
    ax.axvline(t_sp[-1], color="gray", ls=":")
    ax.set_title("W_up: student approaches teacher")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    plot_state(tw, series("W_ip1"), var_name="weight", axes=ax, label="W_ip")
    plot_state(tw, series("W_up2"), var_name="weight", axes=ax, ls="--", label="W_up (output)")
    ax.axvline(t_sp[-1], color="gray", ls=":")
    ax.set_title("W_ip tracks W_up(output)")
    ax.legend(fontsize=7)
    ax = axes[0, 2]
    plot_state(tw, -series("W_pi1"), var_name="weight", axes=ax, label="-W_pi")
    plot_state(tw, series("W_down1"), var_name="weight", axes=ax, ls="--", label="W_down")
    ax.axvline(t_sp[-1], color="gray", ls=":")
    ax.set_title("-W_pi tracks W_down")
    ax.legend(fontsize=7)
    ax = axes[1, 0]
    ax.semilogy(sp["t"] * 1e3, np.abs(sp["v_A"]) + 1e-16, lw=0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("|v_A|")
    ax.set_title("apical potential, self-prediction phase")
    ax = axes[1, 1]
    ax.semilogy(tr["t"] * 1e3, np.abs(tr["v_A"]) + 1e-16, lw=0.3)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("|v_A|")
    ax.set_title("apical potential during training")
    ax = axes[1, 2]
    ax.semilogy(np.arange(1, len(tr["val_error"]) + 1), tr["val_error"])
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation MSE (read-out vs teacher)")
    ax.set_title(f"mimic, {args.mode} mode")
    save_figure(fig, png, dpi=120, smoke=args.fast)


if __name__ == "__main__":
    main()
