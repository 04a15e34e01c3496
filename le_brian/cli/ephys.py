"""``le-brian record | plot | compare``: recordings of trained networks, the standard
panel of a run folder, spike statistics next to a recording."""

from .fields import add_field_options, field_values

__all__ = ["add_ephys_commands"]


def _spiking_view_fields():
    from ..params import Spiking
    from ..params.groups import SPIKING_VIEW

    return {k: f for k, f in Spiking.fields().items() if k in SPIKING_VIEW}


def _cli_record(args):
    from ..protocols.recording import record_run

    fields = _spiking_view_fields()
    # checked values (Quantities), not the command line's text: the microcircuit's
    # spiking view passes them to the network as they are
    spiking = ({k: fields[k].check(v) for k, v in field_values(args, fields).items()}
               if args.spiking else None)
    res = record_run(args.run_dir, n_samples=args.n_samples, split=args.split,
                     spiking=spiking, device=args.device, max_neurons=args.max_neurons,
                     record_every=args.record_every, overwrite=args.overwrite)
    n_spikes = sum(len(s["i"]) for s in res.spikes.values())
    what = f"{n_spikes} spikes" if res.spikes else "states only: a rate network"
    print(f"recorded {res.n_samples} samples ({len(res.t)} steps, {what}) into "
          f"{args.run_dir}/recording.npz (and recording.nwb with the ephys extra)")
    return 0


def _cli_plot(args):
    from ..protocols.recording import plot_run

    paths = plot_run(args.run_dir, out=args.out)
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _cli_compare(args):
    from ..protocols.recording import compare_run

    import sys
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        rows = compare_run(args.run_dir, args.recording, units_column=args.units_column,
                           out=args.out, population=args.population, bin_size=args.bin_size)
    for w in caught:
        if issubclass(w.category, UserWarning) and "compare_statistics" in str(w.message):
            print(f"le-brian: note: {w.message}", file=sys.stderr)
    print(f"{'group':>10s} {'statistic':>11s} {'unit':>4s} {'sim mean':>10s} "
          f"{'rec mean':>10s} {'KS dist':>8s} {'W dist':>10s} {'d [95% CI]':>22s}")
    for r in rows:
        d_text = (f"{r['cohens_d']:.2f} [{r['cohens_d_low']:.2f}, "
                  f"{r['cohens_d_high']:.2f}]")
        print(f"{r['recording_group']:>10s} {r['statistic']:>11s} {r['unit']:>4s} "
              f"{r['sim_mean']:10.3g} {r['rec_mean']:10.3g} {r['ks_distance']:8.3f} "
              f"{r['wasserstein']:10.3g} {d_text:>22s}")
    return 0


def add_ephys_commands(sub, parse_time, devices):
    r = sub.add_parser("record", help="record a trained network's states and spikes",
                       description="Run the network of a run folder on N samples with u, ub, "
                       "r (and spikes) recorded; writes recording.npz and, with the ephys "
                       "extra, recording.nwb into the run folder.")
    r.add_argument("run_dir")
    r.add_argument("--n-samples", type=int, default=10)
    r.add_argument("--split", choices=("train", "val", "test"), default="test")
    r.add_argument("--spiking", action="store_true",
                   help="record the spiking view of a rate network (docs/model.md §5)")
    add_field_options(r, _spiking_view_fields(),
                      "spiking view (with --spiking; options not given: as trained)")
    r.add_argument("--max-neurons", type=int, default=None,
                   help="record states of at most N neurons per hidden layer (default all)")
    r.add_argument("--record-every", type=parse_time, default=None,
                   help="recording interval, e.g. 0.5ms (default dt)")
    r.add_argument("--device", choices=devices)
    r.add_argument("--overwrite", action="store_true",
                   help="replace an existing recording (default: refuse)")
    r.set_defaults(func=_cli_record)
    p = sub.add_parser("plot", help="the standard panel of a run folder (PNG + PDF)")
    p.add_argument("run_dir")
    p.add_argument("--out", default=None,
                   help="write only this file, in the format its suffix names (.png, .pdf, "
                   ".svg, .jpg, ...; default RUN_DIR/panel.png and RUN_DIR/panel.pdf)")
    p.set_defaults(func=_cli_plot)
    c = sub.add_parser("compare", help="spike statistics of a run vs a recording (NWB)",
                       description="Elephant statistics (rate, ISI CV, CV2, LV, pairwise "
                       "correlation; Fano factor and PSTH over trials when both files have "
                       "a trials table) of the run folder's recording.nwb and of a "
                       "recording's Units table side by side, with the Kolmogorov-Smirnov "
                       "distance, the Wasserstein distance (in the statistic's unit) and "
                       "Cohen's d with its 95% confidence interval per statistic; writes "
                       "compare.csv and compare.png (one panel per statistic: empirical "
                       "CDFs of simulation and recording, the scores in the title).")
    c.add_argument("run_dir")
    c.add_argument("recording", help="an NWB file with a Units table")
    c.add_argument("--units-column", default=None,
                   help="group the recording's units by this column (e.g. location)")
    c.add_argument("--population", default=None,
                   help="only this simulated population (e.g. layer1, pyr1; default all)")
    c.add_argument("--bin-size", type=parse_time, default="5ms",
                   help="bin of the correlation coefficients and PSTH (default 5ms)")
    c.add_argument("--out", default=None, help="output folder (default RUN_DIR)")
    c.set_defaults(func=_cli_compare)
