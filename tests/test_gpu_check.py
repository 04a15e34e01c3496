"""``le-brian gpu-check`` up to the point where a GPU is needed: the one-line "no GPU"
answer and its exit status, the reasons, a dry run of the whole machinery on
cpp_standalone (report files, budget), the report's cuda/cpp ratios."""

import json

import pytest

import le_brian.gpu_check as gpu_check
from le_brian.cli import main
from le_brian.gpu_check import NO_GPU_EXIT, gpu_check_markdown, gpu_status, run_gpu_check


def _no_gpu(monkeypatch):
    monkeypatch.setattr(gpu_check, "gpu_status",
                        lambda: {"ok": False, "reason": "nvidia-smi lists no GPU", "gpus": []})


def test_no_gpu_one_line_and_exit_status(monkeypatch, capsys, tmp_path):
    """Without a GPU: one line 'no GPU: <why>' on stdout, nothing on stderr, exit 3,
    no report written."""
    _no_gpu(monkeypatch)
    assert main(["gpu-check", "--out", str(tmp_path / "r")]) == NO_GPU_EXIT == 3
    out, err = capsys.readouterr()
    assert out == "no GPU: nvidia-smi lists no GPU\n" and err == ""
    assert not (tmp_path / "r").exists()


def test_gpu_status_reasons(monkeypatch):
    """The reason names what is missing: nvcc, nvidia-smi, or a listed GPU; with a GPU
    listed, its name and compute capability are parsed from nvidia-smi's CSV."""
    pytest.importorskip("brian2cuda")
    which = {"nvcc": None, "nvidia-smi": None}
    monkeypatch.setattr(gpu_check.shutil, "which", lambda name: which.get(name))
    assert gpu_status() == {"ok": False, "reason": "nvcc is not on PATH", "gpus": []}
    which["nvcc"] = "/usr/bin/nvcc"
    assert gpu_status()["reason"] == "nvidia-smi not found"
    which["nvidia-smi"] = "/usr/bin/nvidia-smi"
    monkeypatch.setattr(gpu_check, "_smi", lambda *args: "")
    assert gpu_status()["reason"] == "nvidia-smi lists no GPU"
    monkeypatch.setattr(gpu_check, "_smi",
                        lambda *args: "NVIDIA H100 80GB HBM3, 9.0, 550.54.15, 81559 MiB")
    status = gpu_status()
    assert status["ok"] and status["reason"] == "NVIDIA H100 80GB HBM3"
    assert status["gpus"][0]["compute_capability"] == "9.0"


def test_bad_arguments_exit_2(monkeypatch):
    _no_gpu(monkeypatch)
    for args in (["--budget", "0"], ["--architectures", "784-x"],
                 ["--microcircuit-steps", "3"]):
        with pytest.raises(SystemExit) as exc:
            main(["gpu-check", *args])
        assert exc.value.code == 2


@pytest.mark.standalone
def test_dry_run_writes_the_report(monkeypatch, tmp_path, capsys):
    """--dry-run without a GPU: the tests run (and are skipped: no GPU), the benchmark
    entries run on cpp_standalone, the JSON and Markdown report are written and agree;
    a budget too small for an entry leaves it out and marks the report incomplete."""
    _no_gpu(monkeypatch)
    out = tmp_path / "report"
    code = main(["gpu-check", "--dry-run", "--out", str(out), "--architectures", "20-10-5",
                 "--steps", "100", "--microcircuit-steps", "0"])
    assert code == 0
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["complete"] and report["devices"] == ["cpp_standalone"]
    # both groups run, their cases skipped without a GPU (fused: sweep and reference;
    # unfused_plain: the unfused and plain paths in both schemes and the conv pass)
    assert report["tests"]["fused"]["status"] == "no test ran", report["tests"]
    assert report["tests"]["fused"]["skipped"] == 2
    assert report["tests"]["unfused_plain"]["skipped"] == 5  # 4 dense paths + the conv pass
    entries = report["entries"]
    assert [(e["architecture"], e["learn"]) for e in entries] == [("20-10-5", True),
                                                                   ("20-10-5", False)]
    assert all(e["steps_per_s"] > 0 and e["n_steps"] == 100 for e in entries)
    md = (out / "gpu_check.md").read_text()
    assert "CUDA equality tests, fused: **no test ran**" in md
    assert "| 20-10-5 | on | cpp_standalone |" in md and "INCOMPLETE" not in md
    short = run_gpu_check(tmp_path / "short", budget_s=1, devices=("cpp_standalone",),
                          architectures=("20-10-5",), tests=False, microcircuit_steps=0,
                          progress=lambda *a: None)
    assert not short["complete"] and short["entries"] == []
    assert short["skipped"] == ["20-10-5 learn=True cpp_standalone: budget",
                                "20-10-5 learn=False cpp_standalone: budget"]
    assert "- left out: 20-10-5 learn=True cpp_standalone: budget" in (
        tmp_path / "short" / "gpu_check.md").read_text()


def test_markdown_ratios():
    """The cuda/cpp ratio per network and learning switch, on the cuda row; evaluation
    over learning steps/s per device, on the learning-off rows."""
    entries = [{"architecture": "a", "learn": learn, "device": d, "steps_per_s": s,
                "build_seconds": 1.0}
               for learn, d, s in ((True, "cpp_standalone", 1000.0),
                                   (True, "cuda_standalone", 2500.0),
                                   (False, "cpp_standalone", 1500.0),
                                   (False, "cuda_standalone", 6000.0))]
    report = {"gpu": {"ok": True, "reason": "GPU X", "gpus": []},
              "machine": {"cpu": "CPU Y", "cpu_count": 4}, "budget_s": 450, "elapsed_s": 10,
              "complete": True, "entries": entries, "microcircuit": [], "skipped": [],
              "tests": {"fused": {"status": "passed", "summary": "2 passed"}}}
    md = gpu_check_markdown(report)
    assert "| a | on | cuda_standalone | 2,500 | 1.0 | x2.50 |  |" in md
    assert "| a | on | cpp_standalone | 1,000 | 1.0 |  |  |" in md
    # evaluation over learning steps/s of the same device
    assert "| a | off | cpp_standalone | 1,500 | 1.0 |  | x1.50 |" in md
    assert "| a | off | cuda_standalone | 6,000 | 1.0 | x4.00 | x2.40 |" in md
    assert "GPU: GPU X" in md and "fused: **passed** (2 passed)" in md
