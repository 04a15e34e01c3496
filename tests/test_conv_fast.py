"""ConvProjection (le_brian's fused convolution template on cpp_standalone) against a
NumPy loop over ConvGeometry.pairs(): forward sums, feedback sums and the kernel after
learning to 1e-12 (stride 2, padding 1, subgroups, uneven chunks of output channels);
the same bits for 0, 1 and 2 OpenMP threads; the evaluation branch (eta = 0); bad
input."""

import numpy as np
import pytest
from brian2 import Clock, Hz, Network, NeuronGroup, ms

from le_brian.engine.conv import ConvProjection, conv_fast_available
from le_brian.engine.conv_geometry import ConvGeometry
from le_brian.engine.devices import (Built, Simulator, _new_standalone_device, _using,
                                    cuda_build_available)

DT = 0.1 * ms
N_STEPS = 40
ETA = 300 * Hz
# (geometry, offset of the layer below / the layer / the kernel inside larger groups)
CASES = (
    (ConvGeometry((2, 5, 7), 3, 3, stride=2, padding=1), (3, 2, 1)),
    (ConvGeometry((3, 6, 6), 10, (3, 2)), (0, 0, 0)),
    # output rows of 8: the explicit-vector gradient loop (64-byte vectors of float64)
    (ConvGeometry((2, 4, 10), 3, 3), (1, 0, 2)),
    # the same rows, padding 1 and 9 output channels in uneven chunks, fused with
    # learning: the feedback by rows (LeNet-5's conv2) reads the kernel of the start
    (ConvGeometry((3, 5, 8), 9, 3, padding=1), (2, 1, 0)),
)


def _initial(seed=7):
    rng = np.random.default_rng(seed)
    out = {}
    for m, (geo, _) in enumerate(CASES):
        n_in, n_out = int(np.prod(geo.in_shape)), int(np.prod(geo.out_shape))
        out[m] = {"w": rng.normal(0, 0.5, geo.n_kernel), "r": rng.uniform(-1, 1, n_in),
                  "eps": rng.uniform(-1, 1, n_out)}
    return out


def _sizes(m):
    geo, (a, b, c) = CASES[m]
    return (int(np.prod(geo.in_shape)), int(np.prod(geo.out_shape)), geo.n_kernel), (a, b, c)


def _build(tables):
    """Per case: the layer below, the layer and the kernel (subgroups of larger groups
    where the case has offsets), a ConvProjection at order 0 and neuron updates at
    order 4 that feed the sums back into the rates and errors (softsign, not tanh:
    with OpenMP, GCC may call glibc's vector tanh, whose bits differ from the scalar
    one's, and the thread test compares bits)."""
    clock = Clock(DT, name="clk")
    objects, state = [], {}
    for m, (geo, _) in enumerate(CASES):
        (n_in, n_out, n_k), (a, b, c) = _sizes(m)
        below = NeuronGroup(n_in + a + 1, "r : 1\nI_fb : 1", clock=clock, name=f"below{m}")
        layer = NeuronGroup(n_out + b, "eps : 1\nI_ff : 1", clock=clock, name=f"layer{m}")
        kernel = NeuronGroup(n_k + c, "w : 1\neta : hertz (shared)", clock=clock,
                             name=f"kernel{m}")
        below.run_regularly("r = (0.5*r + 0.3*I_fb)/(1 + abs(0.5*r + 0.3*I_fb))", when="groups", order=4,
                            name=f"below{m}_up")
        layer.run_regularly("eps = 0.5*eps + 0.2*I_ff/(1 + abs(I_ff)) - 0.1", when="groups", order=4,
                            name=f"layer{m}_up")
        groups = (kernel[c:c + n_k], below[a:a + n_in], layer[b:b + n_out], geo)
        if m != 2:
            convs = [ConvProjection(*groups, feedback="I_fb", when="groups", order=0,
                                    name=f"conv{m}")]
        else:  # the sums, then the kernel update in a second pass (the authors' scheme)
            convs = [ConvProjection(*groups, feedback="I_fb", plasticity=False,
                                    when="groups", order=0, name=f"conv{m}"),
                     ConvProjection(*groups, forward=None, when="groups", order=1,
                                    name=f"conv{m}_learn")]
        objects += [below, layer, kernel, *convs]
        for g, var in ((below, "r"), (below, "I_fb"), (layer, "eps"), (layer, "I_ff"),
                       (kernel, "w"), (kernel, "eta")):
            state[f"{m}.{var}"] = (g, var)
    return Built(Network(objects), state, {})


def _state(init, eta=ETA):
    state = {}
    for m in init:
        (n_in, n_out, n_k), (a, b, c) = _sizes(m)
        full = {"r": np.zeros(n_in + a + 1), "eps": np.zeros(n_out + b),
                "w": np.zeros(n_k + c)}
        full["r"][a:a + n_in] = init[m]["r"]
        full["eps"][b:b + n_out] = init[m]["eps"]
        full["w"][c:c + n_k] = init[m]["w"]
        state.update({f"{m}.{k}": v for k, v in full.items()})
        state[f"{m}.eta"] = float(eta)
    return state


def _softsign(x):
    return x / (1 + np.abs(x))


def _numpy(init, m, eta=ETA):
    """The same circuit as a NumPy loop over ConvGeometry.pairs()."""
    geo = CASES[m][0]
    k, n_out, n_in = geo.pairs()
    K, r, eps = init[m]["w"].copy(), init[m]["r"].copy(), init[m]["eps"].copy()
    for _ in range(N_STEPS):
        I_ff = np.bincount(n_out, K[k] * r[n_in], minlength=len(eps))
        I_fb = np.bincount(n_in, K[k] * eps[n_out], minlength=len(r))
        K = K + float(DT) * float(eta) * np.bincount(k, eps[n_out] * r[n_in],
                                                     minlength=len(K))
        r = _softsign(0.5 * r + 0.3 * I_fb)
        eps = 0.5 * eps + 0.2 * _softsign(I_ff) - 0.1
    return {"r": r, "I_fb": I_fb, "eps": eps, "I_ff": I_ff, "w": K}


def _inner(out, m, var):
    (n_in, n_out, n_k), (a, b, c) = _sizes(m)
    start, n = {"r": (a, n_in), "I_fb": (a, n_in), "eps": (b, n_out), "I_ff": (b, n_out),
                "w": (c, n_k)}[var]
    return out[f"{m}.{var}"][start:start + n]


@pytest.mark.standalone
def test_conv_projection_equals_numpy_and_threads_and_evaluation():
    """40 steps of four projections (stride 2 + padding 1 between subgroups; stride 1,
    10 output channels in uneven chunks; rows of 8 outputs, as two passes: sums, then
    the kernel update; rows of 8 outputs with padding, fused: the feedback by rows):
    sums, rates, errors and kernel == the NumPy
    loop to 1e-12; threads 1 and 2 give the bits of threads 0; a run with eta = 0
    (the evaluation branch, same program) leaves the kernel bit for bit and gives the
    sums of the NumPy loop without learning."""
    init = _initial()
    runs = {threads: Simulator("cpp_standalone", threads=threads).run(
        _build, N_STEPS * DT, _state(init), {}).state for threads in (0, 1, 2)}
    out = runs[0]
    for m in range(len(CASES)):
        ref = _numpy(init, m)
        for var in ("r", "I_fb", "eps", "I_ff", "w"):
            np.testing.assert_allclose(_inner(out, m, var), ref[var], rtol=0, atol=1e-12,
                                       err_msg=f"case {m} {var}")
        assert np.abs(_inner(out, m, "w") - init[m]["w"]).max() > 1e-3
        assert np.all(_inner(out, m, "I_fb") != 0) and np.all(_inner(out, m, "I_ff") != 0)
        # the neurons outside the subgroups keep their zero sums
        (n_in, n_out, _), (a, b, _) = _sizes(m)
        assert not np.any(np.delete(out[f"{m}.I_fb"], np.arange(a, a + n_in)))
        assert not np.any(np.delete(out[f"{m}.I_ff"], np.arange(b, b + n_out)))
    for threads in (1, 2):
        for key in out:
            assert np.array_equal(runs[threads][key], out[key]), (threads, key)
    sim = Simulator("cpp_standalone", threads=2)
    frozen = sim.run(_build, N_STEPS * DT, _state(init, eta=0 * Hz), {}).state
    for m in range(len(CASES)):
        ref = _numpy(init, m, eta=0 * Hz)
        assert np.array_equal(_inner(frozen, m, "w"), init[m]["w"])
        for var in ("r", "I_fb", "eps", "I_ff"):
            np.testing.assert_allclose(_inner(frozen, m, var), ref[var], rtol=0, atol=1e-12,
                                       err_msg=f"eta=0 case {m} {var}")


def _groups(geo, rate_unit="1"):
    n_in, n_out = int(np.prod(geo.in_shape)), int(np.prod(geo.out_shape))
    below = NeuronGroup(n_in, f"r : {rate_unit}\nI_fb : 1")
    layer = NeuronGroup(n_out, "I_ff : 1\neps : 1\nv : volt")
    kernel = NeuronGroup(geo.n_kernel, "w : 1\neta : hertz (shared)\nk_eta : hertz")
    return kernel, below, layer


@pytest.mark.parametrize("kwargs, message", [
    ({"geometry": (1, 4, 4)}, "geometry must be a ConvGeometry"),
    ({"kernel": "small"}, "must have 18 neurons"),
    ({"rate": "q"}, "rate must name a per-neuron variable"),
    ({"forward": "v"}, "forward variable has dimensions"),
    ({"learning_rate": "k_eta"}, "learning_rate must name a shared variable"),
    ({"forward": None, "feedback": None, "plasticity": False}, "nothing to do"),
    ({"feedback": "r"}, "must be different variables"),
])
def test_bad_input_is_refused_before_anything_is_built(kwargs, message):
    """Each bad argument raises ValueError naming it (on cpp_standalone, no build)."""
    geo = ConvGeometry((2, 4, 4), 1, 3)
    kernel, below, layer = _groups(geo)
    args = {"kernel": kernel, "below": below, "layer": layer, "geometry": geo}
    if kwargs.get("kernel") == "small":
        kwargs = {"kernel": NeuronGroup(5, "w : 1\neta : hertz (shared)")}
    args.update(kwargs)
    with _using(_new_standalone_device("cpp_standalone")):
        with pytest.raises(ValueError, match=message):
            ConvProjection(**args)


def test_runtime_device_is_refused():
    """On the runtime device there is no template: a ValueError that names the plain
    path; conv_fast_available says so beforehand."""
    geo = ConvGeometry((1, 4, 4), 2, 3)
    assert not conv_fast_available()
    with pytest.raises(ValueError, match="plain path"):
        ConvProjection(*_groups(geo), geo)


@pytest.mark.parametrize("geometry", [CASES[0][0], CASES[1][0],
                                      ConvGeometry((1, 28, 28), 20, 5),
                                      ConvGeometry((3, 7, 5), 2, (3, 1), stride=(2, 1),
                                                   padding=(1, 0))])
def test_benchmark_pair_count_is_that_of_the_index_table(geometry):
    """n_pairs (the benchmark's count, computed per axis) == len(ConvGeometry.pairs());
    multiply-adds per step: one per pair for each of forward, feedback, gradient."""
    from le_brian.benchmark_conv import fma_per_step, n_pairs

    n = len(geometry.pairs()[0])
    assert n_pairs(geometry) == n
    assert fma_per_step(geometry, True, True) == 3 * n
    assert fma_per_step(geometry, False, True) == fma_per_step(geometry, True, False) == 2 * n
    assert fma_per_step(geometry, False, False) == n


def _aux_objects(kept):
    """A channel sum and the forward and routing passes of a max and an average
    pooling layer (le_brian.engine.conv_aux) over one group of 2 x 4 x 4 units."""
    from le_brian.engine.conv_aux import ChannelSum, PoolPass
    from le_brian.engine.conv_geometry import PoolGeometry
    from le_brian.equations.conv import pool_unit_equations

    clock = Clock(DT, name="clk_aux")
    below = NeuronGroup(32, "r : 1\nI_fb : 1", clock=clock, name="aux_below")
    bias = NeuronGroup(2, "gb : 1", clock=clock, name="aux_bias")
    objects = [below, bias, ChannelSum(below, "r", bias, "gb", 16, name="aux_bias_sum")]
    for kind, geo in (("max", PoolGeometry((2, 4, 4), 2, kind="max")),
                      ("avg", PoolGeometry((2, 4, 4), 3, 1, 1, kind="avg"))):
        pool = NeuronGroup(int(np.prod(geo.out_shape)), pool_unit_equations(kind),
                           clock=clock, name=f"aux_{kind}")
        objects += [pool] + [PoolPass(below, pool, geo, mode, name=f"aux_{kind}_{mode}")
                             for mode in ("forward", "route")]
    kept.append(objects)
    return objects


@pytest.mark.cuda
@pytest.mark.skipif(not cuda_build_available(), reason="needs nvcc and brian2cuda")
def test_cuda_generate_and_compile(cuda_compile_only):
    """brian2cuda generates and compiles (no GPU needed) cases 0 and 2 of the equality
    test (groups and passes only), a channel sum and max and average pooling passes
    with le_brian's conv kernels: forward, feedback and
    learning kernels where the projection has them, no atomics, no index arrays."""
    import re

    kept = []  # the device's array table refers to every group built (weakly): all live

    def make_built():
        full = _build({})
        kept.append(full)
        return Built(Network([o for o in full.network.objects
                              if o.name[-1] in "02" or o.name == "conv2_learn"]
                             + _aux_objects(kept)), {}, {})

    d = cuda_compile_only(make_built)
    aux = {p.name.split("_codeobject")[0]: p.read_text()
           for p in (d / "code_objects").glob("aux_*.cu")}
    assert sorted(aux) == ["aux_avg_forward", "aux_avg_route", "aux_bias_sum",
                           "aux_max_forward", "aux_max_route"], sorted(aux)
    for name, text in aux.items():
        assert "<<<" in text, name
        kernel = "_channel_sum_" if name == "aux_bias_sum" else "_pool_"
        assert "atomicAdd" not in text[text.index(f"__global__ void {kernel}"):], name
    code = {p.name: p.read_text() for p in (d / "code_objects").glob("conv*.cu")}
    kernels = {name: [k for k in ("_conv_forward_", "_conv_feedback_", "_conv_learn_")
                      if re.search(k + r"\w*<<<", text)] for name, text in code.items()}
    assert len(code) == 3, sorted(code)
    for name, text in code.items():
        kernels_text = text[text.index("__global__ void _conv_"):]
        assert "atomicAdd" not in kernels_text and "_synaptic_pre" not in text, name
    by_prefix = {n.split("_codeobject")[0]: k for n, k in kernels.items()}
    assert by_prefix["conv0"] == ["_conv_forward_", "_conv_feedback_", "_conv_learn_"]
    assert by_prefix["conv2"] == ["_conv_forward_", "_conv_feedback_"]
    assert by_prefix["conv2_learn"] == ["_conv_learn_"]


def _gpu_listed():
    from le_brian.benchmark import available_devices

    return "cuda_standalone" in available_devices()


@pytest.mark.cuda
@pytest.mark.skipif(not _gpu_listed(), reason="needs a GPU (nvidia-smi) and brian2cuda")
def test_cuda_conv_agrees_with_numpy():
    """On a GPU machine (`le-brian gpu-check`): the circuit of the equality test on
    cuda_standalone == the NumPy loop to 1e-10 with learning, and with eta = 0 the
    kernel is unchanged bit for bit. Skipped without a GPU (it has never run)."""
    import os

    from le_brian.engine.devices import configure_cuda_build

    configure_cuda_build(float(os.environ.get("LE_BRIAN_CUDA_CC", 9.0)))
    init = _initial()
    sim = Simulator("cuda_standalone")
    for eta in (ETA, 0 * Hz):
        out = sim.run(_build, N_STEPS * DT, _state(init, eta=eta), {}).state
        for m in range(len(CASES)):
            ref = _numpy(init, m, eta=eta)
            for var in ("r", "I_fb", "eps", "I_ff", "w"):
                np.testing.assert_allclose(_inner(out, m, var), ref[var], rtol=0, atol=1e-10,
                                           err_msg=f"eta={eta} case {m} {var}")
            if eta == 0 * Hz:
                assert np.array_equal(_inner(out, m, "w"), init[m]["w"])
