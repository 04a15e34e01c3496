"""``le-brian gpu-check``: the CUDA equality tests and the cuda_standalone vs
cpp_standalone benchmark in one command (`le_brian.gpu_check`)."""

import argparse

from ..gpu_check import GPU_ARCHITECTURES, NO_GPU_EXIT

__all__ = ["add_gpu_check_command"]


def add_gpu_check_command(sub):
    p = sub.add_parser(
        "gpu-check", help="CUDA equality tests + cuda vs cpp benchmark, one report",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="On a machine with a GPU (brian2cuda, nvcc, a GPU that nvidia-smi "
        "lists): run the CUDA equality tests of tests/test_dense.py (fused, unfused and "
        "plain projections on cuda_standalone against cpp_standalone), then time "
        f"{' and '.join(GPU_ARCHITECTURES)} (float64, learning on and off) and the bars "
        "microcircuit on cuda_standalone and cpp_standalone, then the equality tests of the "
        "unfused and plain projections, and write gpu_check.json and "
        "gpu_check.md into --out (rewritten after every step), within --budget seconds. "
        f"Without a usable GPU it prints one line 'no GPU: <why>' and exits {NO_GPU_EXIT}.")
    p.add_argument("--out", default="gpu_check", help="report folder")
    p.add_argument("--budget", type=float, default=420,
                   help="seconds for the whole check (a step that would start with less "
                   "than 60 s left is left out and listed)")
    p.add_argument("--test-seconds", type=float, default=180,
                   help="time limit of each group of equality tests (fused; unfused and "
                   "plain)")
    p.add_argument("--steps", type=int, default=2000, help="steps per timed run")
    p.add_argument("--microcircuit-steps", type=int, default=20_000,
                   help="steps of the microcircuit run (0: skip)")
    p.add_argument("--no-tests", action="store_true", help="skip the equality tests")
    p.add_argument("--dry-run", action="store_true",
                   help="without a GPU: run the machinery on cpp_standalone only, on "
                   "--architectures (tests as without a GPU: skipped)")
    p.add_argument("--architectures", default=",".join(GPU_ARCHITECTURES),
                   help="comma-separated layer sizes")
    p.set_defaults(func=_cli, parser=p)


def _cli(args):
    from ..benchmark import parse_architecture
    from ..gpu_check import gpu_status, run_gpu_check

    p = args.parser
    for name in ("budget", "test_seconds", "steps"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be > 0, got {getattr(args, name)}")
    if args.microcircuit_steps != 0 and args.microcircuit_steps < 8:
        p.error(f"--microcircuit-steps must be 0 (skip) or >= 8, got {args.microcircuit_steps}")
    try:
        architectures = ["-".join(map(str, parse_architecture(a)))
                         for a in args.architectures.split(",")]
    except ValueError as err:
        p.error(f"--architectures: {err}")
    status = gpu_status()
    if not status["ok"] and not args.dry_run:
        print(f"no GPU: {status['reason']}")
        return NO_GPU_EXIT
    devices = ("cpp_standalone", "cuda_standalone") if status["ok"] else ("cpp_standalone",)
    report = run_gpu_check(args.out, args.budget, devices, architectures, args.steps,
                           args.microcircuit_steps, tests=not args.no_tests,
                           test_seconds=args.test_seconds)
    print(f"wrote {args.out}/gpu_check.json and gpu_check.md"
          f"{'' if report['complete'] else ' (incomplete: see left out)'}")
    failed = [t for t in report.get("tests", {}).values()
              if t.get("status") in ("FAILED", "timed out")]
    return 1 if failed else 0
