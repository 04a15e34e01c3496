"""`le_brian.benchmark_scaling`: evaluation next to learning per thread count. The
evaluation runs reuse the learning program (the fused pass branches on eta at run
time: no second compilation); the figures are consistent with the traffic model."""

import pytest

from le_brian.benchmark_scaling import benchmark_scaling, scaling_markdown


@pytest.mark.standalone
def test_scaling_entries_and_no_second_compilation():
    lines = []
    entries = benchmark_scaling([[20, 10, 5]], ("float64",), (0, 1), n_steps=100, repeats=1,
                                progress=lines.append)
    assert [e["threads"] for e in entries] == [0, 1] and len(lines) == 2
    n_weights = 20 * 10 + 10 * 5
    for e in entries:
        assert e["eval_compiled"] is False  # evaluation ran the learning program
        assert e["learn_steps_per_s"] > 0 and e["eval_steps_per_s"] > 0
        assert e["eval_over_learn"] == pytest.approx(
            e["eval_steps_per_s"] / e["learn_steps_per_s"])
        # learning floor: a read and a write per weight; evaluation floor: one read
        assert e["learn_fraction_of_floor"] == pytest.approx(
            e["learn_steps_per_s"] * 2 * 8 * n_weights / e["probe_bytes_per_s"])
        assert e["eval_fraction_of_floor"] == pytest.approx(
            e["eval_steps_per_s"] * 8 * n_weights / e["probe_bytes_per_s"])
    assert entries[1]["learn_speedup"] == entries[1]["eval_speedup"] == 1.0
    assert entries[0]["learn_speedup"] == pytest.approx(
        entries[0]["learn_steps_per_s"] / entries[1]["learn_steps_per_s"])
    table = scaling_markdown(entries)
    assert table.count("| 20-10-5 | float64 |") == 2 and "| x1.00 | x1.00 |" in table
