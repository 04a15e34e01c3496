r"""Layer descriptions, convolution and pooling in plain NumPy, for the NumPy references.

Written from docs/model.md §1.9 independently of the Brian2 path's geometry
(`le_brian.engine.conv_geometry` is not imported): the convolutions are computed by an
im2col built with `numpy.lib.stride_tricks.sliding_window_view` on the zero-padded input,
their transposes by a col2im that adds the kh*kw shifted, strided slices back.

Layers are plain tuples (SI-free: only sizes):

- ``("input", (C, H, W))`` or ``("input", n)``;
- ``("conv", O, (kh, kw), (sh, sw), (ph, pw))`` [+ activation name];
- ``("maxpool", (kh, kw), (sh, sw), (ph, pw))`` or ``("avgpool", ...)``;
- ``("dense", n)`` [+ activation name].

A pair may also be given as one int (the same in both directions). Activities are stored
flat in C order: unit (c, y, x) of a (C, H, W) layer is ``(c*H + y)*W + x``; a kernel
is an array (O, C, kh, kw).

Every array function takes optional leading batch axes: an image batch is
``(..., C, H, W)``.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..activations import NP_ACTIVATIONS

__all__ = ["LayerSpec", "parse_layers", "patches", "fold", "conv_forward", "conv_transpose",
           "conv_kernel_gradient", "pool_forward", "pool_route", "init_parameters"]

_KINDS = ("input", "conv", "maxpool", "avgpool", "dense")


@dataclass(frozen=True)
class LayerSpec:
    """One parsed layer: ``kind``, the ``in_shape`` / ``out_shape`` ((C, H, W) or None for a
    flat vector), the flat sizes ``n_in`` / ``n_out``, and for conv / pool layers
    ``channels``, ``kernel``, ``stride``, ``padding``; ``activation`` (None: the network's
    default)."""

    kind: str
    in_shape: tuple = None
    out_shape: tuple = None
    n_in: int = 0
    n_out: int = 0
    channels: int = 0
    kernel: tuple = (1, 1)
    stride: tuple = (1, 1)
    padding: tuple = (0, 0)
    activation: str = None

    @property
    def learnable(self):
        """Whether the layer has parameters (conv and dense layers)."""
        return self.kind in ("conv", "dense")

    @property
    def is_pool(self):
        """Whether the layer is a pooling layer (no neurons, no parameters)."""
        return self.kind in ("maxpool", "avgpool")


def _pair(value, name, minimum):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in value)):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value[0]), int(value[1])


def _windowed_shape(shape, kernel, stride, padding, what):
    """(H', W') of windows ``kernel`` moved by ``stride`` over the padded (H, W)."""
    sizes = []
    for axis, n, k, s, p in zip(("height", "width"), shape[1:], kernel, stride, padding):
        if 2 * p > k:
            raise ValueError(f"{what}: padding {p} must be at most half the window {k}")
        if k > n + 2 * p:
            raise ValueError(f"{what}: window {k} is larger than the input {axis} {n} "
                             f"(padding {p})")
        count = (n + 2 * p - k) // s + 1
        if (count - 1) * s != n + 2 * p - k:  # the last window must end at the border
            raise ValueError(f"{what}: stride {s} does not tile the input {axis}: "
                             f"{n} + 2*{p} - {k} is not a multiple of {s}")
        sizes.append(count)
    return tuple(sizes)


def _activation(spec, extra, what):
    if len(spec) == extra + 1:
        act = spec[-1]
        if act not in NP_ACTIVATIONS:
            raise ValueError(f"{what}: activation must be one of {sorted(NP_ACTIVATIONS)}, "
                             f"got {act!r}")
        return act
    if len(spec) != extra:
        raise ValueError(f"{what}: expected {extra} entries (+ an optional activation), "
                         f"got {spec!r}")
    return None


def parse_layers(layers):
    """Check a list of layer tuples and return one `LayerSpec` per tuple (input first).

    Raises
    ------
    ValueError
        A malformed tuple, a conv layer without an image input or after a dense layer,
        shapes that do not tile, a pooling layer as the output.
    """
    layers = list(layers)
    if len(layers) < 2:
        raise ValueError(f"layers must be an input and at least one layer, got {layers!r}")
    first = layers[0]
    if not isinstance(first, (tuple, list)) or len(first) != 2 or first[0] != "input":
        raise ValueError(f"layers[0] must be ('input', (C, H, W)) or ('input', n), "
                         f"got {first!r}")
    size = first[1]
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size > 0:
        shape, n = None, int(size)
    elif (isinstance(size, (tuple, list)) and len(size) == 3
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                  for v in size)):
        shape, n = tuple(int(v) for v in size), int(np.prod(size))
    else:
        raise ValueError(f"layers[0]: the input size must be a positive int or (C, H, W), "
                         f"got {size!r}")
    out = [LayerSpec("input", None, shape, 0, n)]
    for idx, spec in enumerate(layers[1:], start=1):
        what = f"layers[{idx}]"
        if not isinstance(spec, (tuple, list)) or not spec or spec[0] not in _KINDS[1:]:
            raise ValueError(f"{what} must be a tuple starting with one of {_KINDS[1:]}, "
                             f"got {spec!r}")
        kind, below = spec[0], out[-1]
        if kind == "dense":
            act = _activation(spec, 2, what)
            if isinstance(spec[1], bool) or not isinstance(spec[1], (int, np.integer)) \
                    or spec[1] < 1:
                raise ValueError(f"{what}: dense size must be a positive int, got {spec[1]!r}")
            out.append(LayerSpec("dense", below.out_shape, None, below.n_out, int(spec[1]),
                                 activation=act))
            continue
        if below.out_shape is None:
            raise ValueError(f"{what}: a {kind} layer needs an image input (C, H, W); the "
                             f"layer below is flat ({below.kind}, {below.n_out} units)")
        if kind == "conv":
            act = _activation(spec, 5, what)
            O = spec[1]
            if isinstance(O, bool) or not isinstance(O, (int, np.integer)) or O < 1:
                raise ValueError(f"{what}: conv channels must be a positive int, got {O!r}")
            kernel = _pair(spec[2], f"{what}: kernel", 1)
            stride = _pair(spec[3], f"{what}: stride", 1)
            padding = _pair(spec[4], f"{what}: padding", 0)
            channels = int(O)
        else:
            if len(spec) != 4:
                raise ValueError(f"{what}: a pooling layer is (kind, (kh, kw), (sh, sw), "
                                 f"(ph, pw)), got {spec!r}")
            kernel = _pair(spec[1], f"{what}: size", 1)
            stride = _pair(spec[2], f"{what}: stride", 1)
            padding = _pair(spec[3], f"{what}: padding", 0)
            channels, act = below.out_shape[0], None
        hw = _windowed_shape(below.out_shape, kernel, stride, padding, what)
        shape = (channels, *hw)
        out.append(LayerSpec(kind, below.out_shape, shape, below.n_out, int(np.prod(shape)),
                             channels, kernel, stride, padding, act))
    if out[-1].is_pool:
        raise ValueError("the output layer (last) must be a conv or dense layer, not a pool")
    return out


def patches(a, spec, fill=0.0):
    """The im2col view of images ``a`` (..., C, H, W) under layer ``spec``'s windows:
    (..., C, H', W', kh, kw), entry [c, y, x, i, j] = a[c, y*sh + i - ph, x*sw + j - pw]
    (``fill`` outside the image)."""
    (kh, kw), (sh, sw), (ph, pw) = spec.kernel, spec.stride, spec.padding
    pad = [(0, 0)] * (a.ndim - 2) + [(ph, ph), (pw, pw)]
    ap = np.pad(a, pad, constant_values=fill)
    return sliding_window_view(ap, (kh, kw), axis=(-2, -1))[..., ::sh, ::sw, :, :]


def fold(cols, spec):
    """col2im, the transpose of `patches` (fill 0): adds ``cols`` (..., C, H', W', kh, kw)
    into images (..., C, H, W) at the positions `patches` read them from."""
    (kh, kw), (sh, sw), (ph, pw) = spec.kernel, spec.stride, spec.padding
    C, H, W = spec.in_shape
    Ho, Wo = cols.shape[-4], cols.shape[-3]
    out = np.zeros(cols.shape[:-5] + (C, H + 2 * ph, W + 2 * pw))
    for i in range(kh):
        for j in range(kw):
            out[..., i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw] += \
                cols[..., i, j]
    return out[..., ph:ph + H, pw:pw + W]


def conv_forward(K, P):
    """I[..., o, y, x] = sum_{c,i,j} K[o, c, i, j] P[..., c, y, x, i, j] (P from `patches`)."""
    return np.moveaxis(np.tensordot(P, K, axes=([-5, -2, -1], [1, 2, 3])), -1, -3)


def conv_transpose(K, g, spec):
    """The transposed convolution: images (..., C, H, W) with entry [c, yy, xx] the sum over
    (o, i, j, y, x) with yy = y*sh + i - ph, xx = x*sw + j - pw of K[o, c, i, j] g[o, y, x]."""
    cols = np.moveaxis(np.tensordot(g, K, axes=([-3], [0])), -3, -5)
    return fold(cols, spec)


def conv_kernel_gradient(g, P):
    """sum_{y,x} g[o, y, x] P[c, y, x, i, j] -> (O, C, kh, kw) (one sample)."""
    return np.tensordot(g, P, axes=([-2, -1], [-4, -3]))


def pool_forward(a, spec):
    """Pool images ``a`` (..., C, H, W). Max: the largest inside value of each window and
    its window position q = i*kw + j (the first maximum in row-major order; padding never
    wins). Avg: the window sum (padding counts as 0) / (kh*kw), position None."""
    kh, kw = spec.kernel
    if spec.kind == "maxpool":
        P = patches(a, spec, fill=-np.inf)
        P = P.reshape(P.shape[:-2] + (kh * kw,))
        q = np.argmax(P, axis=-1)  # the first maximum
        return np.take_along_axis(P, q[..., None], axis=-1)[..., 0], q
    P = patches(a, spec)
    return P.sum(axis=(-2, -1)) / (kh * kw), None


def pool_route(g, q, spec):
    """The error through a pool: images (..., C, H, W) with entry n the sum over the windows
    w containing n of g[w] if n is w's arg-max ``q`` (max), or g[w] / (kh*kw) (avg)."""
    kh, kw = spec.kernel
    if spec.kind == "maxpool":
        cols = np.zeros(g.shape + (kh * kw,))
        np.put_along_axis(cols, q[..., None], g[..., None], axis=-1)
        cols = cols.reshape(g.shape + (kh, kw))
    else:
        cols = np.broadcast_to((g / (kh * kw))[..., None, None], g.shape + (kh, kw))
    return fold(cols, spec)


def init_parameters(specs, seed=0, weight_scale=None):
    """The default initial parameters of the learnable layers, in layer order from one
    ``numpy.random.default_rng(seed)``: kernels ~ N(0, 1/sqrt(C kh kw)), dense weights
    ~ N(0, 1/sqrt(n_pre)), biases 0; with ``weight_scale`` s, weights then biases ~ N(0, s).
    Returns (weights, biases)."""
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for s in specs[1:]:
        if not s.learnable:
            continue
        if s.kind == "conv":
            shape, fan_in, n_b = ((s.channels, s.in_shape[0], *s.kernel),
                                  s.in_shape[0] * s.kernel[0] * s.kernel[1], s.channels)
        else:
            shape, fan_in, n_b = (s.n_out, s.n_in), s.n_in, s.n_out
        if weight_scale is None:
            weights.append(rng.normal(0, 1 / np.sqrt(fan_in), shape))
            biases.append(np.zeros(n_b))
        else:
            weights.append(rng.normal(0, weight_scale, shape))
            biases.append(rng.normal(0, weight_scale, n_b))
    return weights, biases
