"""``le-brian benchmark``."""

import argparse
from pathlib import Path

from ..benchmark import ARCHITECTURES, parse_architecture
from ..engine.registry import DEVICES, DTYPES
from ..params import SYNAPSE_KINDS
from ..io import atomic_write

__all__ = ["add_benchmark_command", "QUICK"]

#: ``--quick``: one network, the three projection paths, float64, learning on, no
#: microcircuit (under a minute here, mostly three compilations).
QUICK = dict(architectures="784-100-10", devices="cpp_standalone", dtypes="float64",
             paths="dense,dense_unfused,plain", learn="on", steps=2000, numpy_steps=300,
             microcircuit_steps=0, spiking_steps=0, conv_steps=0)

PATHS = SYNAPSE_KINDS
LEARN = {"on": True, "off": False}


def add_benchmark_command(sub):
    p = sub.add_parser(
        "benchmark", help="steps/s per device and projection path vs NumPy",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Speed of LE networks (learning on and off) on the standalone devices "
        "(and the runtime device when named in --devices: ~1-2 ms per step, minutes per "
        "entry), dense (fused), dense_unfused and plain projection paths, float64 and "
        "float32, against a dense NumPy loop of the same equations run in the same process "
        "and as a fraction of the memory-traffic floor (a bandwidth probe in the same run); "
        "the bars microcircuit. "
        "Writes a JSON file with every figure and the machine (rewritten after every "
        "entry) and, with --markdown, a table. The full default grid compiles ~20 "
        "programs (15-30 s each here); --quick runs a one-minute subset.")
    p.add_argument("--quick", action="store_true",
                   help="784-100-10 on cpp_standalone, the three paths, float64, learning on, "
                   "no microcircuit (overrides the grid options)")
    p.add_argument("--architectures", default=",".join(ARCHITECTURES),
                   help="comma-separated layer sizes")
    p.add_argument("--devices", default="auto",
                   help=f"comma-separated devices ({', '.join(DEVICES)}); 'auto': "
                   "cpp_standalone, and cuda_standalone where a GPU is listed")
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated dtypes")
    p.add_argument("--paths", default="dense,dense_unfused,plain",
                   help="projection paths (dense: fused where the schedule allows)")
    p.add_argument("--learn", default="on,off", help="learning switch values")
    p.add_argument("--steps", type=int, default=2000, help="steps per timed standalone run")
    p.add_argument("--runtime-steps", type=int, default=200, help="steps per runtime run")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed reruns per entry after the build (the best counts)")
    p.add_argument("--numpy-steps", type=int, default=300, help="steps of the NumPy loop")
    p.add_argument("--microcircuit-steps", type=int, default=100_000,
                   help="steps of the bars microcircuit benchmark (0: skip)")
    p.add_argument("--spiking-steps", type=int, default=20_000,
                   help="steps of the rate-vs-spiking benchmark (bars microcircuit and "
                   "784-100-10, n_per_unit 1; 0: skip)")
    p.add_argument("--conv-steps", type=int, default=2000,
                   help="steps of the LeNet-5 convolution projections alone on cpp_standalone "
                   "(the fused shared-kernel pass, learning on and off; 0: skip)")
    p.add_argument("--threads", default="",
                   help="comma-separated OpenMP thread counts, e.g. 0,1,2: also time "
                   "learning and evaluation (learn=False) of each architecture and dtype "
                   "on cpp_standalone per thread count, in the same process (empty: skip)")
    p.add_argument("--out", default="benchmark.json", help="JSON output file")
    p.add_argument("--markdown", default=None, help="also write a Markdown table here")
    p.set_defaults(func=_cli, parser=p)


def _split(parser, name, value, allowed):
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if not items or bad:
        parser.error(f"--{name}: expected a comma-separated list of {', '.join(allowed)}, "
                     f"got {value!r}")
    return items


def _options(args):
    """Validated options (before any work starts)."""
    from ..benchmark import available_devices

    p = args.parser
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    try:
        architectures = [parse_architecture(a) for a in args.architectures.split(",")]
    except ValueError as err:
        p.error(f"--architectures: {err}")
    here = available_devices()
    if args.devices == "auto":
        devices = [d for d in here if d != "runtime"]
    else:
        devices = _split(p, "devices", args.devices, DEVICES)
        missing = [d for d in devices if d not in here]
        if missing:
            p.error(f"--devices: {', '.join(missing)} cannot run on this machine (available: "
                    f"{', '.join(here)}; cuda_standalone needs brian2cuda and a GPU that "
                    "nvidia-smi lists)")
    for name in ("steps", "runtime_steps", "numpy_steps", "repeats"):
        if getattr(args, name) < 1:
            what = "number of reruns" if name == "repeats" else "number of steps"
            p.error(f"--{name.replace('_', '-')} must be a positive {what}, got "
                    f"{getattr(args, name)}")
    if args.microcircuit_steps != 0 and args.microcircuit_steps < 8:
        p.error(f"--microcircuit-steps must be 0 (skip) or >= 8, got {args.microcircuit_steps}")
    if args.conv_steps < 0:
        p.error(f"--conv-steps must be 0 (skip) or a positive number of steps, got "
                f"{args.conv_steps}")
    if args.spiking_steps != 0 and args.spiking_steps < 80:
        p.error(f"--spiking-steps must be 0 (skip) or >= 80, got {args.spiking_steps}")
    threads = []
    for value in filter(None, (v.strip() for v in args.threads.split(","))):
        if not value.isdigit():
            p.error(f"--threads: expected comma-separated thread counts >= 0, got "
                    f"{args.threads!r}")
        threads.append(int(value))
    if threads and "cpp_standalone" not in devices:
        p.error("--threads needs cpp_standalone in --devices")
    if args.markdown and not Path(args.markdown).parent.exists():
        p.error(f"--markdown: folder {Path(args.markdown).parent} does not exist")
    return dict(architectures=["-".join(map(str, a)) for a in architectures], devices=devices,
                dtypes=_split(p, "dtypes", args.dtypes, DTYPES),
                synapse_paths=_split(p, "paths", args.paths, PATHS),
                learn=[LEARN[v] for v in _split(p, "learn", args.learn, tuple(LEARN))],
                threads=threads)


def _cli(args):
    from ..benchmark import markdown_table, run_benchmarks

    options = _options(args)
    if "runtime" in options["devices"]:
        print(f"note: the runtime device takes ~1-2 ms per step here: "
              f"{len(options['architectures']) * len(options['learn'])} runtime entries of "
              f"{args.runtime_steps} steps each")
    results = run_benchmarks(**options, n_steps=args.steps, runtime_steps=args.runtime_steps,
                             numpy_steps=args.numpy_steps, out=args.out,
                             microcircuit_steps=args.microcircuit_steps,
                             spiking_steps=args.spiking_steps, repeats=args.repeats,
                             conv_steps=args.conv_steps)
    if args.markdown:
        text = markdown_table(results)
        atomic_write(args.markdown, lambda f: f.write(text), text=True)
        print(f"wrote {args.markdown}")
    return 0
