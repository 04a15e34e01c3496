r"""Speed of the fused convolution pass (`le_brian.engine.conv.ConvProjection`) on
cpp_standalone: the LeNet-5 projections alone, for ``le-brian benchmark``.

Each projection runs in a program of its own (three groups and the pass, no neuron
dynamics), so its steps/s are those of the pass. A *pair* is one (kernel entry,
output position) whose input lies inside the input: one multiply-add of the forward
sum, one of the feedback sum (where there is one) and one of the kernel gradient
(with learning) per step. The pass is compute-bound: the kernel and the neuron planes
of LeNet-5 (200 kB and ~50 kB for conv2 in float64) stay in the L2 cache, so the floor
is the machine's multiply-add rate,

.. math:: f_\mathrm{floor} = \frac{\text{multiply-adds/s}}{P\,(1 + [\mathrm{feedback}]
          + [\mathrm{learning}])}\quad\text{steps/s},

with :math:`P` pairs; `fma_per_step` gives the denominator.
"""

import time

import numpy as np
from brian2 import Clock, Hz, Network, NeuronGroup, ms

from .engine.conv import ConvProjection
from .engine.conv_geometry import ConvGeometry
from .engine.devices import Built, Simulator

__all__ = ["LENET5_PROJECTIONS", "LENET5", "n_pairs", "fma_per_step",
           "benchmark_conv_projection", "benchmark_lenet5_convs", "benchmark_lenet5",
           "conv_markdown"]

#: The convolutional projections of the authors' LeNet-5 on MNIST (DESIGN.md §7):
#: name -> (geometry, whether it sums feedback onto the layer below).
LENET5_PROJECTIONS = {
    "conv1": (ConvGeometry((1, 28, 28), 20, 5), False),
    "conv2": (ConvGeometry((20, 12, 12), 50, 5), True),
}


def lenet5_layers():
    """The authors' LeNet-5 on MNIST as layer specifications (DESIGN.md §7)."""
    from .networks.conv_layers import Conv2D, MaxPool2D
    from .networks.layers import Dense, Input

    return [Input((1, 28, 28)), Conv2D(20, 5), MaxPool2D(2), Conv2D(50, 5), MaxPool2D(2),
            Dense(500), Dense(10)]


#: The fully connected network LeNet-5 is compared with in the same run.
LENET5 = {"fc": [784, 300, 100, 10], "dense_weights": 800 * 500 + 500 * 10}


def n_pairs(geometry):
    """Number of (kernel entry, output position) pairs whose input lies inside the
    input (`ConvGeometry.pairs`).

    Examples
    --------
    >>> n_pairs(LENET5_PROJECTIONS["conv2"][0])
    1600000
    """
    O, C, kh, kw = geometry.kernel_shape
    _, H, W = geometry.in_shape
    _, Ho, Wo = geometry.out_shape
    (sh, sw), (ph, pw) = geometry.stride, geometry.padding

    def inside(n, k, s, p, n_out):  # (kernel offset, output position) pairs inside
        pos = np.arange(n_out)[:, None] * s + np.arange(k)[None, :] - p
        return int(((pos >= 0) & (pos < n)).sum())

    return O * C * inside(H, kh, sh, ph, Ho) * inside(W, kw, sw, pw, Wo)


def fma_per_step(geometry, feedback, learn):
    """Multiply-adds of one step of the pass: one per pair for the forward sum, the
    feedback sum (``feedback``) and the kernel gradient (``learn``)."""
    return n_pairs(geometry) * (1 + bool(feedback) + bool(learn))


def _build(geometry, feedback, dtype):
    def build(tables):
        clock = Clock(0.1 * ms, name="conv_clock")
        n_in, n_out = int(np.prod(geometry.in_shape)), int(np.prod(geometry.out_shape))
        below = NeuronGroup(n_in, "r : 1\nI_fb : 1", clock=clock, name="below", dtype=dtype)
        layer = NeuronGroup(n_out, "eps : 1\nI_ff : 1", clock=clock, name="layer",
                            dtype=dtype)
        kernel = NeuronGroup(geometry.n_kernel, "w : 1\neta : hertz (shared)", clock=clock,
                             name="kernel", dtype=dtype)
        conv = ConvProjection(kernel, below, layer, geometry,
                              feedback="I_fb" if feedback else None, name="conv")
        return Built(Network(below, layer, kernel, conv),
                     {"r": (below, "r"), "eps": (layer, "eps"), "w": (kernel, "w"),
                      "eta": (kernel, "eta")}, {})
    return build


def benchmark_conv_projection(geometry, feedback=True, n_steps=2000, learn=True, threads=0,
                              dtype="float64", repeats=3, seed=0):
    """Build one `ConvProjection` program on cpp_standalone, then time ``repeats``
    reruns of ``n_steps`` steps (the simulation loop's own time, measured inside the
    program; the best counts).

    Returns
    -------
    dict
        ``steps_per_s``, ``pairs_per_s`` (pairs x steps/s), ``fma_per_s`` (multiply-adds
        per second, `fma_per_step`), ``n_pairs``, ``build_seconds``, ``loop_seconds``.
    """
    rng = np.random.default_rng(seed)
    state = {"r": rng.uniform(0, 1, int(np.prod(geometry.in_shape))),
             "eps": rng.uniform(-1e-3, 1e-3, int(np.prod(geometry.out_shape))),
             "w": rng.normal(0, 0.1, geometry.n_kernel),
             "eta": float(100 * Hz) if learn else 0.0}
    sim = Simulator("cpp_standalone", threads=threads, dtype=dtype)
    build = _build(geometry, feedback, dtype)
    t0 = time.perf_counter()
    sim.run(build, n_steps * 0.1 * ms, state, {})
    build_seconds = time.perf_counter() - t0
    loops = [float(sim.run(build, n_steps * 0.1 * ms, state, {}).simulation_time)
             for _ in range(repeats)]
    loop = min(loops)
    pairs = n_pairs(geometry)
    return {"steps_per_s": n_steps / loop, "pairs_per_s": n_steps * pairs / loop,
            "fma_per_s": n_steps * fma_per_step(geometry, feedback, learn) / loop,
            "n_pairs": pairs, "build_seconds": build_seconds, "loop_seconds": loop,
            "n_steps": n_steps, "threads": threads, "dtype": dtype}


def benchmark_lenet5_convs(n_steps=2000, repeats=3, dtype="float64", progress=print):
    """`benchmark_conv_projection` of both LeNet-5 projections, learning on and off
    (one program per projection: the evaluation run takes the pass's evaluation
    branch of the same program). Returns a list of entries."""
    entries = []
    for name, (geometry, feedback) in LENET5_PROJECTIONS.items():
        for learn in (True, False):
            r = benchmark_conv_projection(geometry, feedback, n_steps, learn, 0, dtype,
                                          repeats)
            entry = {"projection": name, "learn": learn, "feedback": feedback, **r}
            entries.append(entry)
            progress(f"LeNet-5 {name} learn={str(learn):5s} {dtype}: "
                     f"{r['steps_per_s']:9,.0f} steps/s, {r['pairs_per_s'] / 1e9:.2f} G "
                     f"pairs/s, {r['fma_per_s'] / 1e9:.2f} G multiply-adds/s")
    return entries


def conv_markdown(entries):
    """The entries of `benchmark_lenet5_convs` as a Markdown table."""
    lines = ["| LeNet-5 projection | learn | steps/s | pairs/step | G pairs/s "
             "| G multiply-adds/s |", "|---|---|---:|---:|---:|---:|"]
    for e in entries:
        lines.append(f"| {e['projection']} | {'on' if e['learn'] else 'off'} | "
                     f"{e['steps_per_s']:,.0f} | {e['n_pairs']:,} | "
                     f"{e['pairs_per_s'] / 1e9:.2f} | {e['fma_per_s'] / 1e9:.2f} |")
    return "\n".join(lines)


def benchmark_lenet5(n_steps=2000, dtype="float64", repeats=3, steps_per_sample=100,
                     progress=print):
    """LE LeNet-5 (whole network: conv layers on the fused pass, pooling, dense layers)
    next to the fully connected 784-300-100-10 in the same process, learning, one
    thread, cpp_standalone (`le_brian.benchmark.benchmark_layered` of each).

    Returns ``{'lenet5': entry, 'fc': entry, 'lenet_over_fc': cost ratio (FC steps/s
    / LeNet steps/s), 'pairs_per_s': synapse-position pairs (both convolutions) plus
    dense weights per second}``; the authors' PyTorch LE LeNet-5 costs 2.9 times their
    784-300-100-10 step on this machine kind (DESIGN.md §7).
    """
    from .benchmark import benchmark_layered

    lenet = benchmark_layered(lenet5_layers(), n_steps, "cpp_standalone", True, dtype,
                              repeats=repeats, steps_per_sample=steps_per_sample)
    fc = benchmark_layered(LENET5["fc"], n_steps, "cpp_standalone", True, dtype,
                           repeats=repeats, steps_per_sample=steps_per_sample)
    pairs = sum(n_pairs(g) for g, _ in LENET5_PROJECTIONS.values()) + LENET5["dense_weights"]
    out = {"dtype": dtype, "lenet5": lenet, "fc": fc,
           "lenet_over_fc": fc["steps_per_s"] / lenet["steps_per_s"],
           "pairs_per_step": pairs, "pairs_per_s": pairs * lenet["steps_per_s"]}
    progress(f"LE LeNet-5 {dtype}: {lenet['steps_per_s']:,.0f} steps/s "
             f"({lenet['samples_per_s']:,.1f} samples/s at {steps_per_sample} steps/sample, "
             f"{out['pairs_per_s'] / 1e9:.2f} G pairs/s); 784-300-100-10 "
             f"{fc['steps_per_s']:,.0f} steps/s; LeNet/FC cost x{out['lenet_over_fc']:.1f} "
             f"(authors' PyTorch: x2.9)")
    return out
