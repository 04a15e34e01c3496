"""The ``le-brian`` command: ``le-brian demo | train | evaluate | benchmark | cache |
record | plot | compare | sweep`` (``--help`` on each). Every argument parser of the package lives in this package; the
library modules it calls have none."""

import argparse
import os
import sys

from brian2 import ms

from ..engine.devices import CODEGEN_TARGETS, DEVICES
from ..params import Simulation
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


def _add_device(p):
    sim = Simulation.fields()  # the defaults are the parameter fields'
    device, target = sim["device"].default, sim["codegen_target"].default
    p.add_argument("--device", choices=DEVICES, default=device,
                   help=f"Brian2 device (default: {device})")
    p.add_argument("--codegen-target", choices=CODEGEN_TARGETS, default=target,
                   help=f"runtime code generation target (device=runtime only; default: "
                        f"{target})")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="le-brian",
        description="Latent Equilibrium networks in Brian2 (Haider et al., NeurIPS 2021).",
        epilog="exit status: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items())
        + ". Code that runs by design: --model FILE.py executes that file; a sweep's "
        "python:<module>:<function> protocol imports that module on the workers.")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error instead of one line (also "
                        "LE_BRIAN_DEBUG=1; accepted after the command too)")
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


#: Errors that mean bad input or a missing / unusable file or folder: one line, exit
#: status 2. (le_brian's UnitError is a TypeError; a sweep's SpecError a ValueError; an
#: OSError such as a read-only output folder names its path; OverflowError comes from a
#: value too large for the arithmetic, e.g. an infinite time.)
USER_ERRORS = (ValueError, TypeError, OverflowError, ImportError, OSError)
#: A run that failed although its input was accepted: one line, exit status 3
#: (FloatingPointError: the network diverged; MemoryError; RuntimeError: e.g. the
#: compiler or a standalone program failed, its output follows the line).
RUN_ERRORS = (FloatingPointError, MemoryError, RuntimeError)

#: Exit statuses of ``le-brian`` (README "Reliability"; ``le-brian --help``).
EXIT_CODES = {0: "success", 1: "finished, but some items failed (e.g. sweep points; "
              "`compare` found a difference)", 2: "bad input or an unusable file or folder "
              "(one line naming the parameter or path)", 3: "the run failed (diverged, out "
              "of memory, compiler or program failure)", 4: "an unexpected error in "
              "le_brian (please report it, with the output of --debug)",
              130: "interrupted (Ctrl-C); nothing unfinished was kept"}


def _message(err):
    """One line describing ``err``: its message (first line), the path of an OSError."""
    if isinstance(err, OSError) and getattr(err, "filename", None) is not None:
        text = f"{err.strerror or type(err).__name__}: {err.filename}"
        if getattr(err, "filename2", None) is not None:
            text += f" -> {err.filename2}"
        return text
    if isinstance(err, MemoryError):
        return f"out of memory{': ' + str(err) if str(err) else ''}"
    if isinstance(err, KeyError) and err.args:
        return f"missing entry {err.args[0]!r}"
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _plain_excepthook():
    """Brian2 installs an excepthook that prints "Brian 2 encountered an unexpected
    error ... please report at brian2's issue tracker" for every uncaught exception;
    le-brian's errors are not Brian2's, so --debug shows Python's own traceback."""
    sys.excepthook = sys.__excepthook__


def main(argv=None):
    """Run the command. Errors print one line ``le-brian: error: ...`` without a
    traceback (``--debug`` or ``LE_BRIAN_DEBUG=1`` shows it) and exit with the status of
    `EXIT_CODES`: 2 for bad input or an unusable file (naming the parameter or path), 3
    for a run that failed, 4 for an unexpected error, 130 for Ctrl-C."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    # --debug is global, but accepted anywhere on the line (le-brian train --debug ...)
    debug = "--debug" in argv or os.environ.get("LE_BRIAN_DEBUG", "") not in ("", "0")
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    _plain_excepthook()
    try:
        return args.func(args)
    except KeyboardInterrupt as err:
        if debug:
            raise
        print(f"le-brian: interrupted{': ' + str(err) if str(err) else ''}", file=sys.stderr)
        return 130
    except RUN_ERRORS as err:
        if debug:
            raise
        kind = {FloatingPointError: "the run diverged", MemoryError: "out of memory"}.get(
            type(err), "failed")
        lines = str(err).strip().splitlines()
        if isinstance(err, RuntimeError) and len(lines) > 1:  # e.g. the compiler's output
            print("\n".join(lines[1:]), file=sys.stderr)
        print(f"le-brian: error ({kind}): {_message(err)}", file=sys.stderr)
        return 3
    except USER_ERRORS as err:
        if debug:
            raise
        print(f"le-brian: error: {_message(err)}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001  (no traceback without --debug)
        if debug:
            raise
        print(f"le-brian: unexpected error {type(err).__name__}: {_message(err)} (run with "
              "--debug for the traceback and report it)", file=sys.stderr)
        return 4


if __name__ == "__main__":
    sys.exit(main())
