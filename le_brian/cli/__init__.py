"""The ``le-brian`` command: ``le-brian demo | train | evaluate | benchmark | cache |
record | plot | compare | sweep`` (``--help`` on each). Every argument parser of the package lives in this package; the
library modules it calls have none."""

import argparse
import os
import sys

from brian2 import ms

from ..engine.devices import CODEGEN_TARGETS, DEVICES
from .benchmark import add_benchmark_command
from .cache import add_cache_command
from .ephys import add_ephys_commands
from .gpu_check import add_gpu_check_command
from .sweep import add_sweep_command
from .train import add_train_commands

__all__ = ["main", "parse_time"]


def parse_time(text):
    """'1ms', '0.5 ms', '2s', '200us' -> a Brian2 time Quantity."""
    from brian2 import second, us

    units = {"ms": ms, "s": second, "us": us}
    t = text.strip().replace(" ", "")
    for suffix in ("ms", "us", "s"):
        if t.endswith(suffix):
            try:
                return float(t[: -len(suffix)]) * units[suffix]
            except ValueError:
                break
    raise argparse.ArgumentTypeError(f"expected a time like '1ms', '0.5ms' or '2s', got {text!r}")


def _demo(args):
    from ..protocols.demo import run_demo

    run_demo(out_dir=args.out, device=args.device, epochs=args.epochs, fast=args.fast,
             seed=args.seed, codegen_target=args.codegen_target)
    return 0


def _add_device(p, default="cpp_standalone"):
    p.add_argument("--device", choices=DEVICES, default=default,
                   help=f"Brian2 device (default: {default})")
    p.add_argument("--codegen-target", choices=CODEGEN_TARGETS, default="auto",
                   help="runtime code generation target (device=runtime only)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="le-brian",
        description="Latent Equilibrium networks in Brian2 (Haider et al., NeurIPS 2021).")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also LE_BRIAN_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="LE vs lagged students learning a teacher (embedded data)",
                       description="Teacher-student regression: an LE and a lagged student learn "
                       "the same 10-20-2 teacher at presentation time 1 ms < tau_m = 10 ms. Prints "
                       "both test errors and writes demo.png / demo.json.")
    p.add_argument("--out", default="le_brian_demo", help="output folder (default: ./le_brian_demo)")
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs (default 8; 2 with --fast)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fast", action="store_true",
                   help="a small quick run (smoke test): 400 training and 100 test samples, "
                   "2 epochs unless --epochs is given")
    _add_device(p)
    p.set_defaults(func=_demo)

    add_train_commands(sub, parse_time)
    add_benchmark_command(sub)
    add_cache_command(sub)
    add_ephys_commands(sub, parse_time, DEVICES)
    add_sweep_command(sub)
    add_gpu_check_command(sub)
    return parser


#: Errors that mean bad input or a missing / unusable file: one line, exit status 2.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, FileExistsError, NotADirectoryError,
               IsADirectoryError, PermissionError, ImportError)


def main(argv=None):
    """Run the command; bad input prints one line ``le-brian: error: ...`` and returns 2
    (``--debug`` or ``LE_BRIAN_DEBUG=1`` shows the traceback instead)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt as err:
        if args.debug or os.environ.get("LE_BRIAN_DEBUG"):
            raise
        print(f"le-brian: interrupted{': ' + str(err) if str(err) else ''}", file=sys.stderr)
        return 130
    except USER_ERRORS as err:  # DimensionMismatchError: le_brian's UnitError is a TypeError
        if args.debug or os.environ.get("LE_BRIAN_DEBUG"):
            raise
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"le-brian: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
