"""DenseSynapses (le_brian's dense code templates) against plain brian2.Synapses and
against a NumPy loop of the same equations; layout checks; the Brian2 internals the
fast path relies on; float32; brian2cuda code generation and compilation."""

from pathlib import Path

import brian2
import numpy as np
import pytest
from brian2 import Clock, Hz, Network, NeuronGroup, Synapses, ms, prefs, second
from brian2.core.base import BrianObjectException

from le_brian import LENetwork, Microcircuit
from le_brian.engine.dense import DenseSynapses, dense_code_object_class, learning_rate_of
from le_brian.engine.devices import (Built, Simulator, _new_standalone_device, _using,
                                    cuda_build_available)
from le_brian.engine.network import schedule_with

DT = 0.1 * ms
N_STEPS = 25
ETA = 80 * Hz
# full groups and the subgroups the projection connects: source[2:21] -> target[1:40]
# (19 presynaptic rows: two blocks of the fused loop's 8 rows and a remainder of 3;
# 39 postsynaptic neurons: its loop split at 16)
N_SRC, SRC = 23, slice(2, 21)
N_DST, DST = 42, slice(1, 40)

PROJECTION = """
eta : hertz (shared)
dw/dt = eta*eps_post*r_pre : 1 (clock-driven)
I_ff_post = w*r_pre : 1 (summed)
I_fb_pre = w*eps_post : 1 (summed)
"""


def _initial(seed=4):
    rng = np.random.default_rng(seed)
    return {"W": rng.normal(0, 0.6, (DST.stop - DST.start, SRC.stop - SRC.start)),
            "r": rng.uniform(-1, 1, N_SRC), "eps": rng.uniform(-1, 1, N_DST)}


def _build_pair(tables):
    """Two copies of the same circuit, one wired by DenseSynapses, one by Synapses,
    both between subgroups, summing onto both sides, plastic."""
    clock = Clock(DT, name="clk")
    objects, state = [], {}
    for path, cls in (("dense", DenseSynapses), ("plain", Synapses)):
        src = NeuronGroup(N_SRC, "r : 1\nI_fb : 1", clock=clock, name=f"src_{path}")
        dst = NeuronGroup(N_DST, "eps : 1\nI_ff : 1", clock=clock, name=f"dst_{path}")
        src.run_regularly("r = tanh(0.5*r + 0.3*I_fb)", when="groups", order=2,
                          name=f"src_{path}_update")
        dst.run_regularly("eps = 0.5*eps + 0.2*tanh(I_ff) - 0.1", when="groups", order=2,
                          name=f"dst_{path}_update")
        S = cls(src[SRC], dst[DST], PROJECTION, method="euler", clock=clock, name=f"S_{path}")
        S.connect()
        S.summed_updaters["I_ff_post"].order = 0
        S.summed_updaters["I_fb_pre"].order = 1
        S.state_updater.order = 3
        objects += [src, dst, S]
        for g, var in ((src, "r"), (src, "I_fb"), (dst, "eps"), (dst, "I_ff"), (S, "w"),
                       (S, "eta")):
            state[f"{path}.{var}"] = (g, var)
    return Built(Network(objects), state, {})


def _numpy_pair(init, learn_first=False):
    """The same circuit as a NumPy loop (full groups, weight matrix W[post, pre]);
    ``learn_first``: the weight update before the neurons update (`_build_fusable`)."""
    W, r, eps = init["W"].copy(), init["r"].copy(), init["eps"].copy()
    I_ff, I_fb = np.zeros(N_DST), np.zeros(N_SRC)
    for _ in range(N_STEPS):
        I_ff[DST] = W @ r[SRC]
        I_fb[SRC] = W.T @ eps[DST]
        if learn_first:  # from the rates and errors before they update
            W += float(DT) * float(ETA) * np.outer(eps[DST], r[SRC])
        r = np.tanh(0.5 * r + 0.3 * I_fb)
        eps = 0.5 * eps + 0.2 * np.tanh(I_ff) - 0.1
        if not learn_first:
            W += float(DT) * float(ETA) * np.outer(eps[DST], r[SRC])
    return {"r": r, "I_fb": I_fb, "eps": eps, "I_ff": I_ff, "w": W.T.ravel()}


def _pair_state(init):
    """The initial state of both copies of the circuit."""
    state = {}
    for path in ("dense", "plain"):
        state.update({f"{path}.r": init["r"], f"{path}.I_fb": np.zeros(N_SRC),
                      f"{path}.eps": init["eps"], f"{path}.I_ff": np.zeros(N_DST),
                      f"{path}.w": init["W"].T.ravel(), f"{path}.eta": float(ETA)})
    return state


@pytest.mark.parametrize("device", [
    "runtime", pytest.param("cpp_standalone", marks=pytest.mark.standalone)])
def test_dense_equals_plain_and_numpy_with_subgroups(device):
    """Subgroup source and target, sums onto both sides, plasticity on, 25 steps:
    DenseSynapses == Synapses to 1e-12 and both == the NumPy loop to 1e-12 (cpp: dense
    templates; runtime: Brian2's templates, the fallback)."""
    init = _initial()
    sim = Simulator(device, codegen_target="numpy")
    out = sim.run(_build_pair, N_STEPS * DT, _pair_state(init), {}).state
    ref = _numpy_pair(init)
    for var in ("r", "I_fb", "eps", "I_ff", "w"):
        np.testing.assert_allclose(out[f"dense.{var}"], out[f"plain.{var}"], rtol=0,
                                   atol=1e-12, err_msg=var)
        np.testing.assert_allclose(out[f"dense.{var}"], ref[var], rtol=0, atol=1e-12,
                                   err_msg=var)
    # the circuit is not trivial: weights moved and every summed input is non-zero
    assert np.abs(out["dense.w"] - init["W"].T.ravel()).max() > 1e-3
    assert np.all(out["dense.I_ff"][DST] != 0) and np.all(out["dense.I_fb"][SRC] != 0)


def _code_objects(net):
    """The projections' per-step code objects of the network's last program (names lose
    the ``_codeobject[_N].cpp`` suffix Brian2 adds)."""
    return sorted(p.name.split("_codeobject")[0]
                  for p in Path(net.build_directories[-1], "code_objects").glob("proj*.cpp")
                  if "synapses_create" not in p.name)


def _fused_branches(net, projection):
    """The generated C++ of ``projection``'s fused code object, cut into its evaluation
    branch ('' where it has none) and its update branch."""
    code = next(Path(net.build_directories[-1], "code_objects").glob(
        f"{projection}_fused_codeobject*.cpp")).read_text()
    head, sep, update = code.partition("// le_brian dense: update branch")
    if not sep:
        return "", code
    return head.split("// le_brian dense: evaluation branch")[1], update


def _assert_fused_loop_structure(net, projection, source, target):
    """The fused C++ loop of ``projection`` (>= 2 blocks of DENSE_ROWS rows) reads the
    neuron values it needs once per row / postsynaptic neuron, not per synapse
    (`_DenseIndexMixin`), and prefetches the start of the next block's weight rows; the
    synapse index arrays are read by the layout check only. Its evaluation branch (run
    when eta == 0) has the same loops and reads every weight once, writing none; the
    update branch writes each weight once per loop over synapses."""
    from le_brian.engine.dense import DENSE_PREFETCH_LINES, DENSE_ROWS

    code = next(Path(net.build_directories[-1], "code_objects").glob(
        f"{projection}_fused_codeobject*.cpp")).read_text()
    assert code.count(f"_ptr_array_{projection}__synaptic_pre[") == 1
    assert code.count(f"if (_ptr_array_{projection}_eta[0] == 0)") == 1
    evaluation, update = _fused_branches(net, projection)
    for branch in (evaluation, update):
        # zeroing the sum, the blocks' loop in two halves (prefetch between), the remainder
        assert branch.count("for (int _dense_post = ") == 4
        # eps_post: one read in each of the three loops over synapses (not one per row)
        assert branch.count(f"_ptr_array_{target}_eps[") == 3
        # r_pre: one read per row of a block and one for the remainder row
        assert branch.count(f"_ptr_array_{source}_r[") == DENSE_ROWS + 1
        assert branch.count("__builtin_prefetch") == 1 and DENSE_PREFETCH_LINES > 0
        assert f"_ptr_array_{projection}_w + (size_t)_dense_row" in branch
        # one weight read per synapse of a block's row (2 * DENSE_ROWS) and remainder row
        assert branch.count(f"= _ptr_array_{projection}_w[_idx];") == 2 * DENSE_ROWS + 1
    assert f"_ptr_array_{projection}_w[_idx] =" not in evaluation
    assert "eta" not in evaluation.replace("(eta == 0)", "")
    assert update.count(f"_ptr_array_{projection}_w[_idx] = w;") == 2 * DENSE_ROWS + 1


#: Code objects of the projections of a 4-layer network per path and scheme: the sweep
#: fuses forward, feedback and plasticity; the reference scheme forward and feedback
#: (its plasticity learns from the error computed later in the step).
FUSED_CODE_OBJECTS = {
    "sweep": ["proj1_fused", "proj2_fused", "proj3_fused"],
    "reference": ["proj1_stateupdater", "proj1_summed_variable_I_ff_post", "proj2_fused",
                  "proj2_stateupdater", "proj3_fused", "proj3_stateupdater"],
}
UNFUSED_CODE_OBJECTS = sorted(
    [f"proj{l}_stateupdater" for l in (1, 2, 3)]
    + [f"proj{l}_summed_variable_I_ff_post" for l in (1, 2, 3)]
    + [f"proj{l}_summed_variable_I_fb_pre" for l in (2, 3)])


@pytest.mark.standalone
@pytest.mark.parametrize("sizes, scheme", [([9, 40, 17, 3], "sweep"), ([8, 1, 6, 2], "sweep"),
                                           ([19, 9, 5, 3], "reference")])
def test_lenetwork_fused_unfused_plain_agree(sizes, scheme):
    """LENetwork on cpp_standalone with learning: synapses='dense' (one fused pass per
    projection) == 'dense_unfused' == 'plain' to 1e-12 (output of every step, hidden
    rates and errors, weights, biases), then an evaluation run (learn=False: the fused
    pass's evaluation branch) that learns nothing; the layer sizes cover whole blocks of 8
    presynaptic rows with and without the feedback sum, the prefetch of a next block cut
    at the last row, remainders, a postsynaptic loop split in two (40) and a single
    neuron. The generated projections are the
    fused code objects (sweep: forward + feedback + plasticity; reference: forward +
    feedback) or the separate ones."""
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (12, sizes[0]))
    y = rng.uniform(-1, 1, (12, sizes[-1]))
    results, evaluations = {}, {}
    for path in ("dense", "dense_unfused", "plain"):
        net = LENetwork(sizes, activation="tanh", beta=0.5, device="cpp_standalone",
                        learning_rates=[60 * Hz] * (len(sizes) - 1), seed=2, synapses=path,
                        scheme=scheme, keep_builds=True)
        res = net.run(x, 1 * ms, targets=y, record=["r", "eps", "I_fb"])
        results[path] = (res, tuple(net.get_parameters().values()))
        # evaluation (eta = 0: the fused pass's evaluation branch) of the learned weights
        ev = net.run(x, 1 * ms, targets=y, learn=False, record=["r", "eps", "I_fb"])
        evaluations[path] = ev
        for a, b in zip(sum(results[path][1], []), sum(net.get_parameters().values(), [])):
            assert np.array_equal(a, b)  # nothing learned
        if path == "dense":
            assert _code_objects(net) == FUSED_CODE_OBJECTS[scheme]
            if sizes[1] >= 16:
                _assert_fused_loop_structure(net, "proj2", "layer1", "layer2")
        elif path == "dense_unfused":
            assert _code_objects(net) == UNFUSED_CODE_OBJECTS
    rd, (wd, bd) = results["dense"]
    for other in ("dense_unfused", "plain"):
        rp, (wp, bp) = results[other]
        np.testing.assert_allclose(rd.output, rp.output, rtol=0, atol=1e-12)
        for l in range(1, len(sizes)):
            for var in ("r", "eps", "I_fb"):
                np.testing.assert_allclose(rd.state(var, l), rp.state(var, l), rtol=0,
                                           atol=1e-12, err_msg=f"{other} {var} {l}")
        for a, b in zip(wd + bd, wp + bp):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
        ed, ep = evaluations["dense"], evaluations[other]
        np.testing.assert_allclose(ed.output, ep.output, rtol=0, atol=1e-12)
        for l in range(1, len(sizes)):
            for var in ("r", "eps", "I_fb"):
                np.testing.assert_allclose(ed.state(var, l), ep.state(var, l), rtol=0,
                                           atol=1e-12, err_msg=f"evaluation {other} {var} {l}")
    assert not np.array_equal(evaluations["dense"].output, rd.output)
    w0 = LENetwork(sizes, seed=2, device="runtime").get_parameters()["weights"]
    assert max(np.abs(a - b).max() for a, b in zip(wd, w0)) > 1e-4  # learning happened
    assert np.abs(rd.state("I_fb", 1)).max() > 1e-3  # the feedback sums are not zero


def _build_fusable(tables, fuse=True, learning_rate="auto"):
    """The circuit of `_build_pair` (subgroups, sums onto both sides, plastic) in an
    order that allows fusion: both sums and the plasticity before the neurons update;
    the dense copy fused (``fuse``), the plain copy as Brian2 runs it."""
    built = _build_pair(tables)
    for obj in built.network.objects:
        if isinstance(obj, NeuronGroup):
            for runner in obj.contained_objects:
                if runner.name.endswith("_update"):
                    runner.order = 4
        if isinstance(obj, DenseSynapses) and fuse:
            assert obj.fuse("I_ff_post", "I_fb_pre", plasticity=True,
                            learning_rate=learning_rate)
    return built


@pytest.mark.standalone
def test_fused_updater_with_subgroups_equals_numpy():
    """`DenseSynapses.fuse` between subgroups (the sums land at the subgroups' offsets),
    25 steps on cpp_standalone: the fused pass == plain Synapses == the NumPy loop to
    1e-12, and the neurons outside the subgroups keep a zero sum."""
    init = _initial()
    out = Simulator("cpp_standalone").run(_build_fusable, N_STEPS * DT, _pair_state(init),
                                          {}).state
    ref = _numpy_pair(init, learn_first=True)
    for var in ("r", "I_fb", "eps", "I_ff", "w"):
        for path in ("dense", "plain"):
            np.testing.assert_allclose(out[f"{path}.{var}"], ref[var], rtol=0, atol=1e-12,
                                       err_msg=f"{path} {var}")
    outside = np.ones(N_SRC, bool)
    outside[SRC] = False
    assert np.all(out["dense.I_fb"][outside] == 0) and np.all(out["dense.I_fb"][SRC] != 0)
    assert np.abs(out["dense.w"] - init["W"].T.ravel()).max() > 1e-3


@pytest.mark.standalone
def test_evaluation_branch_is_bit_identical():
    """eta = 0 on cpp_standalone: the fused pass with its evaluation branch (sums only)
    gives the results of the fused pass without it (the update branch, which writes
    w + dt*0*...) to rounding (1e-13; the same bits where the compiler vectorises both
    alike) and of plain Synapses to 1e-12; the weights are the initial ones, bit for
    bit. With eta != 0 the branch is not taken (weights move)."""
    init = _initial()
    state = dict(_pair_state(init), **{"dense.eta": 0.0, "plain.eta": 0.0})
    sim = Simulator("cpp_standalone")
    out = {rate: sim.run(lambda t: _build_fusable(t, learning_rate=rate), N_STEPS * DT,
                         state, {}).state for rate in ("auto", None)}
    for var in ("r", "I_fb", "eps", "I_ff", "w"):
        # the same terms in the same order; -ffast-math lets the compiler vectorise the
        # two branches' feedback reductions differently (seen with AVX-512): rounding
        np.testing.assert_allclose(out["auto"][f"dense.{var}"], out[None][f"dense.{var}"],
                                   rtol=0, atol=1e-13, err_msg=var)
        np.testing.assert_allclose(out["auto"][f"dense.{var}"], out["auto"][f"plain.{var}"],
                                   rtol=0, atol=1e-12, err_msg=var)
    assert np.array_equal(out["auto"]["dense.w"], init["W"].T.ravel())
    assert np.array_equal(out[None]["dense.w"], init["W"].T.ravel())
    assert np.all(out["auto"]["dense.I_fb"][SRC] != 0)
    learned = sim.run(_build_fusable, N_STEPS * DT, _pair_state(init), {}).state
    assert np.abs(learned["dense.w"] - init["W"].T.ravel()).max() > 1e-3


def test_fuse_arguments_and_where_it_applies():
    """fuse() checks its arguments; it fuses on cpp_standalone with one thread or with
    OpenMP threads (the separate updaters then deactivated), not in runtime mode, not
    with dense=False; the learning rate that selects the evaluation branch is found (a
    factor of every differential equation) or refused."""
    def make(dense=True):
        src = NeuronGroup(3, "r : 1\nI_fb : 1")
        dst = NeuronGroup(2, "eps : 1\nI_ff : 1")
        S = DenseSynapses(src, dst, PROJECTION, method="euler", dense=dense)
        S.connect()
        return S

    S = make()
    with pytest.raises(ValueError, match="'I_x' is not a summed variable"):
        S.fuse("I_x")
    with pytest.raises(ValueError, match="must be summed onto the target group"):
        S.fuse("I_fb_pre")
    with pytest.raises(ValueError, match="must be summed onto the source group"):
        S.fuse("I_ff_post", "I_ff_post")
    assert S.fuse("I_ff_post", "I_fb_pre", plasticity=True) is False  # runtime
    no_eqs = DenseSynapses(NeuronGroup(2, "r : 1"), NeuronGroup(2, "I : 1"),
                           "w : 1\nI_post = w*r_pre : 1 (summed)")
    with pytest.raises(ValueError, match="has no differential equations"):
        no_eqs.fuse("I_post", plasticity=True)
    device = _new_standalone_device("cpp_standalone")
    saved = prefs.devices.cpp_standalone.openmp_threads
    try:
        with _using(device):
            prefs.devices.cpp_standalone.openmp_threads = 2
            S = make()
            assert S.fuse("I_ff_post", "I_fb_pre", plasticity=True) is True
            assert S.fused_updater.rate == "eta"  # found: a factor of dw/dt
            prefs.devices.cpp_standalone.openmp_threads = 0
            assert make(dense=False).fuse("I_ff_post", plasticity=True) is False
            assert make().fuse("I_ff_post") is False  # nothing to fuse with
            S = make()
            assert S.fuse("I_ff_post", "I_fb_pre", plasticity=True) is True
            assert not any(u.active for u in S.summed_updaters.values())
            assert not S.state_updater.active and S.fused_updater.active
            assert S.fused_updater in S.contained_objects
            with pytest.raises(ValueError, match="may be called once"):
                S.fuse("I_ff_post", plasticity=True)
            S = make()
            assert S.fuse("I_ff_post", plasticity=True, learning_rate=None)
            assert S.fused_updater.rate is None
            with pytest.raises(ValueError, match="learning_rate='w' must be a shared"):
                make().fuse("I_ff_post", plasticity=True, learning_rate="w")
            decay = DenseSynapses(NeuronGroup(2, "r : 1"), NeuronGroup(2, "eps : 1\nI : 1"),
                                  "eta : hertz (shared)\nlam : hertz (shared)\n"
                                  "dw/dt = eta*eps_post*r_pre - lam*w : 1 (clock-driven)\n"
                                  "I_post = w*r_pre : 1 (summed)", method="euler")
            assert learning_rate_of(decay) is None  # eta = 0 leaves the decay
            assert decay.fuse("I_post", plasticity=True)
            assert decay.fused_updater.rate is None
    finally:
        prefs.devices.cpp_standalone.openmp_threads = saved


@pytest.mark.standalone
def test_float32_deviation_from_float64():
    """784-100-10, hard sigmoid, 100 samples x 10 steps with learning (cpp_standalone,
    dense path): float32 stays within 1e-5 of float64 (measured: outputs 6.5e-7,
    weights 2.8e-7, stated in the README), and does differ (float32 really used)."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (100, 784)), rng.uniform(0, 1, (100, 10))
    out = {}
    for dtype in ("float64", "float32"):
        net = LENetwork([784, 100, 10], activation="hard_sigmoid", weight_scale=0.05,
                        learning_rates=[20 * Hz, 4 * Hz], device="cpp_standalone",
                        dtype=dtype, seed=1)
        res = net.run(x, 1 * ms, targets=y)
        out[dtype] = (res.output, net.get_parameters()["weights"])
    d_out = np.abs(out["float64"][0] - out["float32"][0]).max()
    d_w = max(np.abs(a - b).max() for a, b in zip(out["float64"][1], out["float32"][1]))
    print(f"float32 - float64: outputs {d_out:.2g}, weights {d_w:.2g}")
    assert 1e-9 < d_out < 1e-5
    assert 1e-9 < d_w < 1e-5


# ---------------------------------------------------------------- layout checks
def _groups():
    return NeuronGroup(3, "r : 1"), NeuronGroup(2, "I : 1")


@pytest.mark.parametrize("kwargs", [dict(condition="i != j"), dict(i=[0, 1], j=[1, 0]),
                                    dict(p=0.5), dict(n=2), dict(j="i")])
def test_connect_refuses_anything_but_all_to_all(kwargs):
    pre, post = _groups()
    S = DenseSynapses(pre, post, "w : 1\nI_post = w*r_pre : 1 (summed)")
    with pytest.raises(ValueError, match="only a plain all-to-all connect"):
        S.connect(**kwargs)


def test_connect_once_and_before_running():
    pre, post = _groups()
    S = DenseSynapses(pre, post, "w : 1\nI_post = w*r_pre : 1 (summed)")
    with pytest.raises(BrianObjectException) as excinfo:
        Network(pre, post, S).run(DT, namespace={})
    assert "call connect() before running" in str(excinfo.value.__cause__)
    S.connect()
    with pytest.raises(ValueError, match="connect\\(\\) may be called once"):
        S.connect()


def _bypassed_build(tables):
    pre = NeuronGroup(3, "r : 1", name="pre")
    post = NeuronGroup(3, "I : 1", name="post")
    S = DenseSynapses(pre, post, "w : 1\nI_post = w*r_pre : 1 (summed)", name="S_bad")
    Synapses.connect(S, j="i")  # bypasses DenseSynapses.connect: one-to-one
    S._dense_connected = True
    return Built(Network(pre, post, S), {"pre.r": (pre, "r")}, {})


@pytest.mark.parametrize("device", [
    "runtime", pytest.param("cpp_standalone", marks=pytest.mark.standalone)])
def test_wrong_layout_is_refused_at_run_start(device):
    """A one-to-one layout slipped past connect() is refused when the run starts: in
    Python (runtime) or by the generated code's one-time check (cpp_standalone)."""
    sim = Simulator(device, codegen_target="numpy")
    with pytest.raises((RuntimeError, BrianObjectException)) as excinfo:
        sim.run(_bypassed_build, 2 * DT, {"pre.r": np.ones(3)}, {})
    err = excinfo.value
    message = str(err.__cause__ if isinstance(err, BrianObjectException) else err)
    assert "S_bad" in message and "layout" in message


# ---------------------------------------------------------------- Brian2 internals
def test_brian2_internals_the_fast_path_relies_on(tmp_path):
    """Fails loudly when a Brian2 upgrade changes what the dense templates rely on:
    the pinned version, Templater.derive, the generators' translate_to_read_arrays,
    CodeRunner.codeobj_class / template_kwds, the summed updaters' template keywords,
    connect()'s pre-major order; and the generated C++ of every dense runner computes
    the synapse index from loop counters (no index-array reads), while plain Synapses
    still read index arrays. Generation only (no compiler)."""
    assert brian2.__version__ == "2.10.1", (
        "le_brian.dense relies on Brian2 internals checked for 2.10.1: re-run "
        "tests/test_dense.py against the new version before changing the pin")
    from brian2.codegen.generators.cpp_generator import CPPCodeGenerator
    from brian2.codegen.templates import Templater
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

    assert hasattr(Templater, "derive")
    assert hasattr(CPPCodeGenerator, "translate_to_read_arrays")
    # connect() order in runtime mode (the standalone generator code is checked in C++)
    pre, post = NeuronGroup(4, "r : 1"), NeuronGroup(3, "I : 1")
    S = Synapses(pre, post, "w : 1")
    S.connect()
    assert np.array_equal(S.i[:], np.repeat(np.arange(4), 3))
    assert np.array_equal(S.j[:], np.tile(np.arange(3), 4))

    device = CPPStandaloneDevice()
    directory = str(tmp_path / "gen")
    with _using(device, directory=directory):
        b = _build_pair({})
        b.network.run(2 * DT, namespace={})
        dense = b.state["dense.w"][0]
        for runner in dense._dense_runners():
            assert type(runner.codeobj).__name__ == "DenseCPPStandaloneCodeObject"
        for upd in dense.summed_updaters.values():
            assert {"_index_var", "_target_start", "_target_var"} <= set(upd.template_kwds)
        device.build(directory=directory, compile=False, run=False)
    code_dir = Path(directory) / "code_objects"
    for path in ("dense", "plain"):
        for name in ("stateupdater", "summed_variable_I_ff_post", "summed_variable_I_fb_pre"):
            code = (code_dir / f"S_{path}_{name}_codeobject.cpp").read_text()
            main = code[code.index("MAIN CODE"):]
            reads_index_arrays = "__synaptic_pre[_idx]" in main or "__synaptic_post[_idx]" in main
            if path == "dense":
                assert "le_brian dense" in main and "_dense_pre" in main, name
                assert not reads_index_arrays, name
            else:
                assert reads_index_arrays, name


def test_dense_code_object_class_per_device():
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
    from brian2.devices.device import RuntimeDevice

    assert dense_code_object_class(RuntimeDevice()) is None
    assert dense_code_object_class(CPPStandaloneDevice()).__name__ == \
        "DenseCPPStandaloneCodeObject"


# ---------------------------------------------------------------- brian2cuda
def _cuda_available():
    return cuda_build_available()


def _cuda_build(spiking):
    """One program. ``spiking=False``: an LE network (dense and plain projections) and
    the bars microcircuit (dense projections); ``True``: the bars microcircuit alone in
    spiking mode (pyramidal cells and interneurons: le_uniform, summed spike counts onto
    the traces; the output stays a rate: fewer kernels)."""
    options = dict(spiking=True, n_per_unit=2, spiking_output=False) if spiking else {}
    if spiking == "counts":
        options.update(spike_draw="counts", t_ref=1 * ms, prospective_trace=True,
                       n_per_unit=500, r_max=50 * Hz)
    mc = Microcircuit([9, 30, 3], device="runtime", **options)
    n = 8
    mc_built = mc._build_model({"mc_input": np.zeros((n, 9)), "mc_target": np.zeros((n, 3)),
                                "mc_nudge": np.zeros(n), "mc_learn": np.zeros(n)},
                               10, {}, 1, {}, 1, {}, {"pyr1"} if spiking else set())
    if spiking:
        net = Network(*mc_built.network.objects)
        net.schedule = schedule_with(mc.slots())
        return Built(net, {}, {}, namespace=dict(mc_built.namespace))
    # with every substrate feature (docs/model.md §1.8): the learned tau and its clip,
    # the rate noise (le_uniform, Box-Muller), the synaptic filters
    # projections: fused (forward + plasticity), plain, dense unfused (separate forward,
    # feedback and plasticity kernels), fused with the feedback sum
    le = LENetwork([6, 5, 4, 3, 3], synapses=["dense", "plain", "dense_unfused", "dense"],
                   learning_rates=50 * Hz, device="runtime", tau_jitter=0.1,
                   tau_learning="tau_r", eta_tau=0.01 * second, rate_noise=0.01 * ms ** 0.5,
                   tau_syn=1 * ms)
    le_built = le._build_model({"le_input": np.zeros((2, 6)), "le_target": np.zeros((2, 3))},
                               10, {"layer3": ["r"]}, {}, 1, set(), {})
    net = Network(*le_built.network.objects, *mc_built.network.objects)
    net.schedule = schedule_with(le.slots() + mc.slots())
    return Built(net, {}, {}, namespace={**le_built.namespace, **mc_built.namespace})


def _compile_cuda(compile_program, spiking):
    """Generate and compile `_cuda_build` with nvcc (no GPU needed; ``compile_program``:
    the ``cuda_compile_only`` fixture): {code object file prefix -> source}."""
    d = compile_program(lambda: _cuda_build(spiking))
    code = {p.name: p.read_text() for p in (d / "code_objects").glob("*.cu")}

    def source(prefix):
        # code object names get a suffix (_1, ...) when earlier tests used the name
        matches = [c for n, c in sorted(code.items()) if n.startswith(prefix)]
        assert matches, prefix
        return matches[0]

    return source


def _assert_dense_kernels(source, names):
    for name in names:
        text = source(name)
        assert "_dense_" in text, name
        assert "__synaptic_pre[_idx]" not in text, name


@pytest.mark.cuda
@pytest.mark.skipif(not _cuda_available(), reason="needs nvcc and brian2cuda")
def test_cuda_generate_and_compile_dense_plain_microcircuit(cuda_compile_only):
    """brian2cuda generates and compiles (no GPU needed) one program holding an LE
    network with dense and plain projections and the bars microcircuit with dense
    projections; the dense kernels come from le_brian's templates (no atomics, no
    index-array reads) and the plain projection from brian2cuda's."""
    source = _compile_cuda(cuda_compile_only, False)
    dense_ff = source("proj3_summed_variable_I_ff_post_codeobject")
    dense_fb = source("proj3_summed_variable_I_fb_pre_codeobject")
    plain_ff = source("proj2_summed_variable_I_ff_post_codeobject")
    assert "_dense_sum" in dense_ff and "atomicAdd" not in dense_ff.split("_run_kernel")[1]
    assert "__shfl_down_sync" in dense_fb
    assert "_brian_atomicAdd" in plain_ff
    for name, feedback in (("proj1_fused", False), ("proj4_fused", True)):
        fused = source(name)
        kernels = fused.split("_run_kernel")[1]
        assert "_dense_reduce_" in fused and "atomicAdd" not in kernels, name
        assert ("__shfl_down_sync" in kernels) == feedback, name
        assert "_synaptic_ff" in kernels and "_ptr_array_proj" in kernels, name
        # the evaluation branch (eta == 0): the sums only, no weight written
        head, _, update = kernels.partition("// le_brian dense: update branch")
        evaluation = head.split("// le_brian dense: evaluation branch")[1]
        prefix = name.split("_")[0]
        assert f"if (_ptr_array_{prefix}_eta[0] == 0)" in kernels, name
        assert "_synaptic_ff" in evaluation and f"_ptr_array_{prefix}_w[_idx] =" not in evaluation
        assert f"_ptr_array_{prefix}_w[_idx] =" in update, name
        assert ("__shfl_down_sync" in evaluation) == feedback, name
    _assert_dense_kernels(source, ("proj3_stateupdater", "W_up1_summed_variable_v_B_post",
                                   "W_up1_plasticity", "proj1_fused", "proj4_fused"))
    prospective = source("layer1_prospective")
    assert "le_uniform" in prospective and "rs" in prospective
    assert "tau_r" in source("layer1_tau_clip")


@pytest.mark.slow
@pytest.mark.cuda
@pytest.mark.skipif(not _cuda_available(), reason="needs nvcc and brian2cuda")
def test_cuda_generate_and_compile_spiking_microcircuit(cuda_compile_only):
    """brian2cuda generates and compiles the spiking bars microcircuit (pyramidal cells
    and interneurons spike: le_uniform's CUDA implementation, the summed spike counts),
    its projections on le_brian's dense templates. (-m slow: ~5 min of nvcc.)"""
    source = _compile_cuda(cuda_compile_only, True)
    assert "le_uniform" in source("pyr1_spikes_spike_thresholder")
    assert "le_uniform" in source("int1_spikes_spike_thresholder")
    _assert_dense_kernels(source, ("W_up1_summed_variable_v_B_post", "W_up1_plasticity"))


@pytest.mark.slow
@pytest.mark.cuda
@pytest.mark.skipif(not _cuda_available(), reason="needs nvcc and brian2cuda")
def test_cuda_generate_and_compile_counted_spiking_microcircuit(tmp_path, monkeypatch):
    """brian2cuda generates and compiles the spiking bars microcircuit with spike counts
    drawn per unit (``spike_draw='counts'``: le_binomial's CUDA implementation, the
    dead-time ring of t_ref, the prospective trace; docs/model.md §5.5), its pyramidal
    spikes recorded through the counting group. (-m slow: minutes of nvcc.)"""
    source = _compile_cuda("counts", tmp_path, monkeypatch)
    trace = source("pyr1_trace")
    assert "le_binomial" in trace and "ref_h10" in trace and "xp" in trace
    assert "le_binomial" in source("int1_trace")
    assert "xp" in source("W_up2_plasticity") and "xp" in source("W_ip1_plasticity")
    assert "n_spk" in source("pyr1_counts_spike_thresholder")


def _gpu_listed():
    from le_brian.benchmark import available_devices

    return "cuda_standalone" in available_devices()


@pytest.mark.cuda
@pytest.mark.skipif(not _gpu_listed(), reason="needs a GPU (nvidia-smi) and brian2cuda")
@pytest.mark.parametrize("scheme", ["sweep", "reference"])
@pytest.mark.parametrize("path", ["dense", "dense_unfused", "plain"])
def test_cuda_fused_agrees_with_cpp(scheme, path):
    """On a GPU machine: the fused, unfused and plain projections on cuda_standalone agree
    with cpp_standalone's fused path to 1e-10 with learning (40-33-35-3: chunks of 32 rows
    with a remainder, warps with padding lanes), and in an evaluation run (learn=False:
    the fused kernels' evaluation branch on both devices) of the learned weights, which
    learns nothing.
    One program per case, so that ``pytest -n`` (`le-brian gpu-check`) builds them in
    parallel. Skipped without a GPU (it has never run: no GPU was lent to this project
    yet)."""
    import os

    from le_brian.engine.devices import configure_cuda_build

    # the card's compute capability: set by `le-brian gpu-check` from nvidia-smi
    configure_cuda_build(float(os.environ.get("LE_BRIAN_CUDA_CC", 9.0)))
    sizes = [40, 33, 35, 3]
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-1, 1, (8, sizes[0])), rng.uniform(-1, 1, (8, sizes[-1]))

    def run(device, path):
        net = LENetwork(sizes, activation="tanh", beta=0.5, device=device, seed=4,
                        learning_rates=[40 * Hz] * 3, synapses=path, scheme=scheme)
        res = net.run(x, 1 * ms, targets=y, record=["eps", "I_fb"])
        learned = net.get_parameters()
        evaluation = net.run(x, 1 * ms, targets=y, learn=False, record=["eps", "I_fb"])
        for a, b in zip(sum(learned.values(), []), sum(net.get_parameters().values(), [])):
            assert np.array_equal(a, b)  # nothing learned
        return res, learned, evaluation

    ref, p_ref, ev_ref = run("cpp_standalone", "dense")
    res, p, ev = run("cuda_standalone", path)
    for a, b in ((res, ref), (ev, ev_ref)):
        np.testing.assert_allclose(a.output, b.output, rtol=0, atol=1e-10)
        for l in (1, 2):
            np.testing.assert_allclose(a.state("I_fb", l), b.state("I_fb", l), rtol=0,
                                       atol=1e-10)
    for a, b in zip(p["weights"] + p["biases"], p_ref["weights"] + p_ref["biases"]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
