"""``le-brian benchmark``."""

from pathlib import Path

from ..benchmark import ARCHITECTURES

__all__ = ["add_benchmark_command"]


def add_benchmark_command(sub):
    p = sub.add_parser("benchmark", help="steps/s per device and projection path vs NumPy",
                       description="Speed of LE networks (learning on and off) on every "
                       "available device, dense and plain projection paths, float64 and "
                       "float32, against a dense NumPy loop of the same equations run in the "
                       "same process; the bars microcircuit. Writes a JSON file with every "
                       "figure and the machine (rewritten after every entry) and, with "
                       "--markdown, a table.")
    p.add_argument("--architectures", default=",".join(ARCHITECTURES),
                   help="comma-separated layer sizes, e.g. 784-100-10,784-300-100-10")
    p.add_argument("--devices", default="auto",
                   help="comma-separated devices (runtime, cpp_standalone, cuda_standalone); "
                   "'auto': every available one")
    p.add_argument("--dtypes", default="float64,float32", help="float64,float32")
    p.add_argument("--paths", default="dense,plain", help="projection paths: dense,plain")
    p.add_argument("--learn", default="on,off", help="learning switch values: on,off")
    p.add_argument("--steps", type=int, default=2000, help="steps per timed standalone run")
    p.add_argument("--runtime-steps", type=int, default=200, help="steps per runtime run")
    p.add_argument("--numpy-steps", type=int, default=300, help="steps of the NumPy loop")
    p.add_argument("--microcircuit-steps", type=int, default=100_000,
                   help="steps of the bars microcircuit benchmark (0: skip)")
    p.add_argument("--out", default="benchmark.json", help="JSON output file")
    p.add_argument("--markdown", default=None, help="also write a Markdown table here")
    p.set_defaults(func=_cli)


def _cli(args):
    from ..benchmark import markdown_table, run_benchmarks

    devices = None if args.devices == "auto" else args.devices.split(",")
    learn = [{"on": True, "off": False}[v] for v in args.learn.split(",")]
    results = run_benchmarks(args.architectures.split(","), devices, args.dtypes.split(","),
                             args.paths.split(","), learn, n_steps=args.steps,
                             runtime_steps=args.runtime_steps, numpy_steps=args.numpy_steps,
                             out=args.out, microcircuit_steps=args.microcircuit_steps)
    if args.markdown:
        Path(args.markdown).write_text(markdown_table(results))
        print(f"wrote {args.markdown}")
    return 0
