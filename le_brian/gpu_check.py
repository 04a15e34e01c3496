"""One check for the day a GPU is lent: the CUDA equality tests and the benchmark of
cuda_standalone against cpp_standalone, in one JSON + Markdown report.

`gpu_status` says whether this machine can run cuda_standalone (brian2cuda, ``nvcc``,
a GPU that ``nvidia-smi`` lists); `run_gpu_check` then

1. runs the CUDA equality tests of tests/test_dense.py for the fused projections
   (cuda_standalone against cpp_standalone's fused path, learning and evaluation: the
   fused kernels' evaluation branch on both devices) in a
   pytest subprocess with a time limit;
2. times 784-300-100-10 and 784-1000-1000-10 (float64, dense projections, learning on
   and off) and the bars microcircuit on cpp_standalone and cuda_standalone in this
   process (`le_brian.benchmark.benchmark_layered`, `benchmark_microcircuit`), with
   the cuda/cpp ratio of each and each device's evaluation (learning off: the
   evaluation branch) over learning steps/s;
3. runs the equality tests of the unfused and plain projections;

within a budget of seconds (an entry that would start after the budget is left out,
and says so). The report is rewritten after every step, so an interrupted check keeps
what it measured. ``le-brian gpu-check`` (`le_brian.cli.gpu_check`) is the command.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["NO_GPU_EXIT", "GPU_ARCHITECTURES", "CUDA_TESTS", "gpu_status", "run_gpu_check",
           "gpu_check_markdown"]

#: Exit status of ``le-brian gpu-check`` on a machine without a usable GPU.
NO_GPU_EXIT = 3

#: Networks of the benchmark part.
GPU_ARCHITECTURES = ("784-300-100-10", "784-1000-1000-10")

_EQUALITY = "tests/test_dense.py::test_cuda_fused_agrees_with_cpp"

#: The CUDA equality tests (pytest node ids relative to the repository root), in two
#: groups: the fused path first (before the benchmark), the unfused and plain paths
#: and the convolution pass after it (while the budget lasts). One CUDA program each; run in parallel where
#: pytest-xdist is installed.
CUDA_TESTS = {
    "fused": tuple(f"{_EQUALITY}[dense-{s}]" for s in ("sweep", "reference")),
    "unfused_plain": tuple(f"{_EQUALITY}[{p}-{s}]" for p in ("dense_unfused", "plain")
                           for s in ("sweep", "reference"))
    + ("tests/test_conv_fast.py::test_cuda_conv_agrees_with_numpy",),
}


def _smi(*args):
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        proc = subprocess.run([smi, *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def gpu_status():
    """Whether cuda_standalone can run here.

    Returns
    -------
    dict
        ``ok`` (bool), ``reason`` (one line: why not, or the GPU), ``gpus`` (the GPUs
        as ``nvidia-smi`` lists them: name, compute capability, driver, memory).
    """
    try:
        import brian2cuda  # noqa: F401
    except ImportError:
        return {"ok": False, "reason": "brian2cuda is not installed (pip install "
                "'le_brian[cuda]')", "gpus": []}
    if shutil.which("nvcc") is None:
        return {"ok": False, "reason": "nvcc is not on PATH", "gpus": []}
    listed = _smi("--query-gpu=name,compute_cap,driver_version,memory.total",
                  "--format=csv,noheader")
    if not listed:
        why = "nvidia-smi not found" if shutil.which("nvidia-smi") is None else \
            "nvidia-smi lists no GPU"
        return {"ok": False, "reason": why, "gpus": []}
    gpus = []
    for line in listed.splitlines():
        name, cc, driver, memory = (part.strip() for part in (line.split(",") + [""] * 4)[:4])
        gpus.append({"name": name, "compute_capability": cc, "driver": driver,
                     "memory": memory})
    return {"ok": True, "reason": gpus[0]["name"], "gpus": gpus}


def _repo_root():
    root = Path(__file__).resolve().parents[1]
    return root if (root / "tests" / "test_dense.py").exists() else None


def _run_tests(report, group, seconds, python):
    """The CUDA equality tests ``CUDA_TESTS[group]`` in a pytest subprocess (``seconds``
    at most; in parallel where pytest-xdist is installed): ``report['tests'][group]``."""
    import importlib.util

    tests = report.setdefault("tests", {})
    root = _repo_root()
    if root is None:
        tests[group] = {"status": "not run: tests/ not found next to the package "
                        "(run from a source checkout)"}
        return
    nodes = CUDA_TESTS[group]
    parallel = (["-n", str(len(nodes))] if importlib.util.find_spec("xdist") is not None
                else [])
    cmd = [python, "-m", "pytest", "-q", "-rA", "-p", "no:randomly", "-p", "no:cacheprovider",
           *parallel, "-m", "cuda", *nodes]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True,
                              timeout=max(seconds, 1))
        output, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as err:
        output = ((err.stdout or b"").decode(errors="replace") if isinstance(err.stdout, bytes)
                  else (err.stdout or ""))
        code = None
    lines = output.strip().splitlines()
    summary = lines[-1] if lines else ""
    # pytest's last line, e.g. "1 failed, 2 passed, 1 skipped in 61.2s"
    counts = {word: 0 for word in ("passed", "failed", "skipped", "error")}
    for number, word in re.findall(r"(\d+) (passed|failed|skipped|error)", summary):
        counts[word] = int(number)
    tests[group] = {"command": " ".join(cmd), "returncode": code, "summary": summary,
                       "seconds": time.perf_counter() - t0, **counts,
                       "status": ("timed out" if code is None else
                                  "passed" if code == 0 and counts["passed"] else
                                  "no test ran" if code in (0, 5) and not counts["passed"]
                                  else "FAILED"),
                       "output_tail": "\n".join(lines[-40:])}


def run_gpu_check(out_dir, budget_s=420, devices=("cpp_standalone", "cuda_standalone"),
                  architectures=GPU_ARCHITECTURES, n_steps=2000, microcircuit_steps=20_000,
                  tests=True, test_seconds=180, progress=print):
    """Run the GPU check and write ``gpu_check.json`` and ``gpu_check.md`` into
    ``out_dir`` (rewritten after every step).

    Parameters
    ----------
    out_dir : str or Path
        Folder of the report (created).
    budget_s : float
        Seconds for the whole check; a step that would start with less than 60 s left
        is left out (``skipped`` in the report).
    devices : sequence of str
        Devices to benchmark (without cuda_standalone: a dry run of the machinery).
    architectures : sequence of str
    n_steps, microcircuit_steps : int
        Steps per timed run (microcircuit: 0 skips it).
    tests : bool
        Run the CUDA equality tests (each group at most ``test_seconds``).

    Returns
    -------
    dict
        The report.
    """
    from .benchmark import (benchmark_layered, benchmark_microcircuit, machine_info,
                            parse_architecture)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    status = gpu_status()
    report = {"machine": machine_info(), "gpu": status, "devices": list(devices),
              "budget_s": budget_s, "n_steps": n_steps, "entries": [], "microcircuit": [],
              "skipped": [], "complete": False}

    def save():
        report["elapsed_s"] = time.perf_counter() - start
        (out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str))
        (out / "gpu_check.md").write_text(gpu_check_markdown(report))

    def left():
        return budget_s - (time.perf_counter() - start)

    cc = status["gpus"][0]["compute_capability"] if status["gpus"] else ""
    if cc:
        os.environ["LE_BRIAN_CUDA_CC"] = cc  # read by the CUDA tests
    save()
    def run_tests(group):
        if not tests:
            return
        if left() < 60:
            report["skipped"].append(f"equality tests {group}: budget")
            return
        seconds = min(test_seconds, left())
        progress(f"CUDA equality tests, {group} (at most {seconds:.0f} s) ...")
        _run_tests(report, group, seconds, sys.executable)
        result = report["tests"][group]
        progress(f"tests {group}: {result['status']} {result.get('summary', '')}")
        save()

    run_tests("fused")
    if "cuda_standalone" in devices:
        from .engine.devices import configure_cuda_build

        configure_cuda_build(**({"compute_capability": float(cc)} if cc else {}))
    for arch in architectures:
        sizes = parse_architecture(arch)
        for learn in (True, False):
            for device in devices:
                what = f"{arch} learn={learn} {device}"
                if left() < 60:
                    report["skipped"].append(f"{what}: budget")
                    continue
                r = benchmark_layered(sizes, n_steps, device, learn, "float64", "dense",
                                      repeats=2)
                report["entries"].append({"architecture": arch, "learn": learn,
                                          "device": device, **r})
                progress(f"{what}: {r['steps_per_s']:,.0f} steps/s (build "
                         f"{r['build_seconds']:.0f} s)")
                save()
    for device in devices if microcircuit_steps else ():
        if left() < 60:
            report["skipped"].append(f"microcircuit {device}: budget")
            continue
        r = benchmark_microcircuit(microcircuit_steps, device)
        report["microcircuit"].append(r)
        progress(f"microcircuit {device}: {r['device_steps_per_s']:,.0f} steps/s")
        save()
    run_tests("unfused_plain")
    report["complete"] = not report["skipped"]
    save()
    return report


def _ratio(entries, arch, learn):
    by = {e["device"]: e["steps_per_s"] for e in entries
          if e["architecture"] == arch and e["learn"] == learn}
    if "cuda_standalone" in by and "cpp_standalone" in by:
        return f"x{by['cuda_standalone'] / by['cpp_standalone']:.2f}"
    return ""


def _eval_over_learn(entries, arch, device):
    by = {e["learn"]: e["steps_per_s"] for e in entries
          if e["architecture"] == arch and e["device"] == device}
    if True in by and False in by:
        return f"x{by[False] / by[True]:.2f}"
    return ""


def gpu_check_markdown(report):
    """The report of `run_gpu_check` as Markdown."""
    gpu = report["gpu"]
    m = report["machine"]
    lines = ["# le_brian GPU check", "",
             f"GPU: {gpu['reason'] if gpu['ok'] else 'none (' + gpu['reason'] + ')'}; "
             f"CPU: {m.get('cpu', m.get('processor'))}, {m.get('cpu_count')} cores; "
             f"{report.get('elapsed_s', 0):.0f} s of a {report['budget_s']:.0f} s budget"
             f"{'' if report['complete'] else ' (INCOMPLETE)'}.", ""]
    for group, t in report.get("tests", {}).items():
        lines += [f"CUDA equality tests, {group}: **{t['status']}** ({t.get('summary', '')})",
                  ""]
    if report["entries"]:
        # eval/learn: a learn=False row's steps/s over the same device's learning ones
        # (the fused pass's evaluation branch on either device)
        lines += ["| network | learn | device | steps/s | build s | cuda/cpp | eval/learn |",
                  "|---|---|---|---:|---:|---:|---:|"]
        for e in report["entries"]:
            ratio = _ratio(report["entries"], e["architecture"], e["learn"]) \
                if e["device"] == "cuda_standalone" else ""
            speedup = "" if e["learn"] else _eval_over_learn(
                report["entries"], e["architecture"], e["device"])
            lines.append(f"| {e['architecture']} | {'on' if e['learn'] else 'off'} | "
                         f"{e['device']} | {e['steps_per_s']:,.0f} | "
                         f"{e['build_seconds']:.1f} | {ratio} | {speedup} |")
        lines.append("")
    if report["microcircuit"]:
        lines += ["| bars microcircuit 9-30-3 | steps/s | NumPy loop steps/s | build s |",
                  "|---|---:|---:|---:|"]
        for r in report["microcircuit"]:
            lines.append(f"| {r['device']} | {r['device_steps_per_s']:,.0f} | "
                         f"{r['numpy_steps_per_s']:,.0f} | {r['build_time']:.1f} |")
        lines.append("")
    for skipped in report["skipped"]:
        lines.append(f"- left out: {skipped}")
    return "\n".join(lines) + "\n"
