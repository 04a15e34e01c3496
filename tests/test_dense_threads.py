"""The fused dense pass under OpenMP threads (cpp_standalone, ``threads > 0``): the
same bits for any number of threads, the one-thread loop (``threads=0``) and the
separate templates to rounding, with learning and in evaluation runs; the generated
code is the fused, parallel loop."""

from pathlib import Path

import numpy as np
import pytest
from brian2 import Hz, ms

from le_brian import LENetwork

# 300 presynaptic rows: 13 chunks of 24 rows (3 blocks of 8) and one of 12 (a block and a
# remainder of 4); 40: 5 chunks of one block; 17: chunks of 8, 8 and 1 row
SIZES = [300, 40, 17, 3]


def _run(threads, synapses="dense"):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (6, SIZES[0]))
    y = rng.uniform(-1, 1, (6, SIZES[-1]))
    net = LENetwork(SIZES, activation="tanh", beta=0.5, device="cpp_standalone", seed=7,
                    learning_rates=[50 * Hz] * 3, synapses=synapses, threads=threads,
                    keep_builds=True)
    runs = [net.run(x, 1 * ms, targets=y, record=["r", "eps", "I_fb"]),
            net.run(x, 1 * ms, targets=y, learn=False, record=["r", "eps", "I_fb"])]
    code = {p.name.split("_codeobject")[0]: p.read_text()
            for p in Path(net.build_directories[-1], "code_objects").glob("proj*_fused*.cpp")}
    arrays = []
    for res in runs:
        arrays.append(res.output)
        arrays += [res.state(var, l) for l in (1, 2, 3) for var in ("r", "eps", "I_fb")]
    params = net.get_parameters()
    return arrays + params["weights"] + params["biases"], code


@pytest.mark.standalone
def test_fused_threads_same_bits_and_agree_with_one_thread():
    """threads=1 and threads=2 give the same bits (the chunks and the order in which
    their partial forward sums are added depend on N_pre only); both agree with the
    one-thread fused loop (threads=0) and the separate templates to 1e-12 (measured:
    9.2e-16; the forward sums are added in another order); the fused code objects run
    the chunk loop in an OpenMP parallel region, with an evaluation branch, and keep
    each chunk's partial sums on cache lines of their own (no false sharing)."""
    one, _ = _run(1)
    two, code = _run(2)
    zero, _ = _run(0)
    unfused, _ = _run(0, "dense_unfused")
    assert sorted(code) == ["proj1_fused", "proj2_fused", "proj3_fused"]
    for name, text in code.items():
        assert text.count("#pragma omp parallel") == 2, name  # evaluation and update
        # the chunks' partial forward sums, each on cache lines of its own, added in order
        assert "_dense_parts[(size_t)_dense_chunk * _dense_part_stride + _dense_post]" in text
        assert "+ 63) / 64 * 64" in text
    assert len(one) == len(two) == len(zero) == len(unfused)
    for k, (a, b) in enumerate(zip(one, two)):
        assert np.array_equal(a, b), k
    worst = 0.0
    for k, (a, c, u) in enumerate(zip(one, zero, unfused)):
        np.testing.assert_allclose(a, c, rtol=0, atol=1e-12, err_msg=str(k))
        np.testing.assert_allclose(a, u, rtol=0, atol=1e-12, err_msg=str(k))
        worst = max(worst, float(np.abs(a - c).max()))
    print(f"threads=1 vs threads=0: max |difference| {worst:.2g}")
    w0 = LENetwork(SIZES, seed=7, device="runtime").get_parameters()["weights"]
    assert max(np.abs(a - b).max() for a, b in zip(one[-6:-3], w0)) > 1e-4  # learned


@pytest.mark.standalone
def test_fused_threads_between_subgroups_equal_numpy():
    """The fused pass with two threads between subgroups (19 rows: chunks of one block
    of 8, 8 and a remainder of 3; sums at the subgroups' offsets), 25 steps with
    learning: equal to the NumPy loop to 1e-12, zero sums outside the subgroups."""
    import test_dense as td
    from le_brian.engine.devices import Simulator

    init = td._initial()
    out = Simulator("cpp_standalone", threads=2).run(
        td._build_fusable, td.N_STEPS * td.DT, td._pair_state(init), {}).state
    ref = td._numpy_pair(init, learn_first=True)
    for var in ("r", "I_fb", "eps", "I_ff", "w"):
        np.testing.assert_allclose(out[f"dense.{var}"], ref[var], rtol=0, atol=1e-12,
                                   err_msg=var)
    outside = np.ones(td.N_SRC, bool)
    outside[td.SRC] = False
    assert np.all(out["dense.I_fb"][outside] == 0) and np.all(out["dense.I_fb"][td.SRC] != 0)
    assert np.abs(out["dense.w"] - init["W"].T.ravel()).max() > 1e-3
