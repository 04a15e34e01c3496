r"""Geometry of convolution and pooling layers: shapes, checks and index tables.

A layer's activity is a ``(C, H, W)`` array stored flat in C order (channel-major,
as NumPy's ``reshape`` and PyTorch's ``view`` do): unit ``(c, y, x)`` is neuron
``n = (c H + y) W + x``. A dense layer after a convolution or pooling layer reads that
flat vector.

Convolution (a cross-correlation, as in the deep-learning libraries), input
``(C, H, W)``, ``O`` output channels, kernel ``(kh, kw)``, stride ``(sh, sw)``, zero
padding ``(ph, pw)``:

.. math::

    H' = (H + 2 p_h - k_h) / s_h + 1, \qquad W' = (W + 2 p_w - k_w) / s_w + 1,

    I[o, y, x] = \sum_{c, i, j} K[o, c, i, j]\; r[c,\ y s_h + i - p_h,\ x s_w + j - p_w],

with r = 0 outside the input (padding). Kernel entry ``(o, c, i, j)`` is index
``k = ((o C + c) k_h + i) k_w + j`` of the flat kernel.

Pooling over windows ``(kh, kw)`` with stride ``(sh, sw)`` (default: the window) and
padding: the same output sizes; window position ``q = i k_w + j`` (row-major).

Both refuse, before anything is built, shapes that do not tile (``H + 2 p_h - k_h``
not a multiple of ``s_h``), a kernel larger than its padded input, padding of more than
half a window, and non-positive sizes, with an error naming the parameter.
"""

from dataclasses import dataclass

import re

import numpy as np

__all__ = ["ConvGeometry", "PoolGeometry", "as_shape", "as_pair", "parse_layers"]


def as_pair(value, name, minimum=1):
    """``value`` as a pair of ints (an int means the same in both directions)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value), int(value))
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                   for v in value)):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    value = (int(value[0]), int(value[1]))
    if min(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return value


def as_shape(value, name="shape"):
    """``value`` as a ``(C, H, W)`` tuple of positive ints."""
    if (not isinstance(value, (tuple, list)) or len(value) != 3
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                   or v < 1 for v in value)):
        raise ValueError(f"{name} must be (channels, height, width) of positive ints, "
                         f"got {value!r}")
    return tuple(int(v) for v in value)


def _out_size(n, k, s, p, what, axis, kname="kernel_size"):
    span = n + 2 * p - k
    if span < 0:
        raise ValueError(f"{what}: {kname} {k} is larger than its input's {axis} "
                         f"{n} (padding {p})")
    if span % s:
        raise ValueError(f"{what}: stride {s} does not tile the input's {axis}: "
                         f"{axis} + 2 padding - {kname} = {n} + 2*{p} - {k} = {span} is "
                         f"not a multiple of {s}")
    return span // s + 1


def _check_padding(kernel, padding, what, kname="kernel_size"):
    for k, p in zip(kernel, padding):
        if 2 * p > k:
            raise ValueError(f"{what}: padding {p} must be at most half the {kname} {k}")


@dataclass(frozen=True)
class ConvGeometry:
    """One convolution: ``in_shape`` ``(C, H, W)``, ``out_channels``, ``kernel``,
    ``stride`` and ``padding`` (pairs of ints)."""

    in_shape: tuple
    out_channels: int
    kernel: tuple
    stride: tuple = (1, 1)
    padding: tuple = (0, 0)

    def __post_init__(self):
        what = "Conv2D"
        object.__setattr__(self, "in_shape", as_shape(self.in_shape, f"{what} input shape"))
        if (isinstance(self.out_channels, bool)
                or not isinstance(self.out_channels, (int, np.integer))
                or self.out_channels < 1):
            raise ValueError(f"{what}: channels must be a positive int, got "
                             f"{self.out_channels!r}")
        object.__setattr__(self, "out_channels", int(self.out_channels))
        object.__setattr__(self, "kernel", as_pair(self.kernel, f"{what}: kernel_size"))
        object.__setattr__(self, "stride", as_pair(self.stride, f"{what}: stride"))
        object.__setattr__(self, "padding", as_pair(self.padding, f"{what}: padding", 0))
        _check_padding(self.kernel, self.padding, what)
        self.out_shape  # noqa: B018 -- checks the tiling

    @property
    def out_shape(self):
        """``(O, H', W')``."""
        _, H, W = self.in_shape
        return (self.out_channels,
                _out_size(H, self.kernel[0], self.stride[0], self.padding[0], "Conv2D",
                          "height"),
                _out_size(W, self.kernel[1], self.stride[1], self.padding[1], "Conv2D",
                          "width"))

    @property
    def kernel_shape(self):
        """``(O, C, kh, kw)``."""
        return (self.out_channels, self.in_shape[0], *self.kernel)

    @property
    def n_kernel(self):
        """Number of kernel entries."""
        return int(np.prod(self.kernel_shape))

    def pairs(self):
        """Index arrays ``(k, n_out, n_in)`` of every (kernel entry, output position)
        whose input position lies inside the input (not in the padding), ordered by
        kernel entry ``k`` and then output position (row-major)."""
        O, C, kh, kw = self.kernel_shape
        _, H, W = self.in_shape
        _, Ho, Wo = self.out_shape
        (sh, sw), (ph, pw) = self.stride, self.padding
        o, c, i, j, y, x = np.meshgrid(np.arange(O), np.arange(C), np.arange(kh),
                                       np.arange(kw), np.arange(Ho), np.arange(Wo),
                                       indexing="ij")
        yy, xx = y * sh + i - ph, x * sw + j - pw
        inside = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        k = ((o * C + c) * kh + i) * kw + j
        n_out = (o * Ho + y) * Wo + x
        n_in = (c * H + yy) * W + xx
        return k[inside].ravel(), n_out[inside].ravel(), n_in[inside].ravel()


@dataclass(frozen=True)
class PoolGeometry:
    """One pooling layer: ``in_shape`` ``(C, H, W)``, window ``size``, ``stride``
    (default: the window) and ``padding``; ``kind`` "max" or "avg"."""

    in_shape: tuple
    size: tuple
    stride: tuple = None
    padding: tuple = (0, 0)
    kind: str = "max"

    def __post_init__(self):
        what = "MaxPool2D" if self.kind == "max" else "AvgPool2D"
        if self.kind not in ("max", "avg"):
            raise ValueError(f"pooling kind must be 'max' or 'avg', got {self.kind!r}")
        object.__setattr__(self, "in_shape", as_shape(self.in_shape, f"{what} input shape"))
        object.__setattr__(self, "size", as_pair(self.size, f"{what}: size"))
        object.__setattr__(self, "stride", as_pair(
            self.size if self.stride is None else self.stride, f"{what}: stride"))
        object.__setattr__(self, "padding", as_pair(self.padding, f"{what}: padding", 0))
        _check_padding(self.size, self.padding, what, "size")
        self.out_shape  # noqa: B018 -- checks the tiling

    @property
    def out_shape(self):
        """``(C, H', W')``."""
        what = "MaxPool2D" if self.kind == "max" else "AvgPool2D"
        C, H, W = self.in_shape
        return (C, _out_size(H, self.size[0], self.stride[0], self.padding[0], what,
                             "height", "size"),
                _out_size(W, self.size[1], self.stride[1], self.padding[1], what, "width",
                          "size"))

    def windows(self):
        """Index arrays ``(n_out, n_in, q)`` of every (output unit, input unit inside its
        window), ordered by output unit and then window position ``q`` (row-major)."""
        C, H, W = self.in_shape
        _, Ho, Wo = self.out_shape
        (kh, kw), (sh, sw), (ph, pw) = self.size, self.stride, self.padding
        c, y, x, i, j = np.meshgrid(np.arange(C), np.arange(Ho), np.arange(Wo),
                                    np.arange(kh), np.arange(kw), indexing="ij")
        yy, xx = y * sh + i - ph, x * sw + j - pw
        inside = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        n_out = (c * Ho + y) * Wo + x
        n_in = (c * H + yy) * W + xx
        q = i * kw + j
        return n_out[inside].ravel(), n_in[inside].ravel(), q[inside].ravel()


_TOKEN = re.compile(r"(?P<kind>[cma])(?P<a>\d+)(?:k(?P<k>\d+))?(?:s(?P<s>\d+))?(?:p(?P<p>\d+))?")


def parse_layers(text):
    """Convolution and pooling layers from their text form, e.g. ``"c20k5,m2,c50k5,m2"``
    (LeNet-5's): ``c<channels>k<kernel>[s<stride>][p<padding>]`` a convolution,
    ``m<size>[s<stride>][p<padding>]`` / ``a<size>...`` max / average pooling; tokens
    separated by commas or dashes. Returns tuples ``("conv", channels, kernel, stride,
    padding)`` / ``("max" | "avg", size, stride, padding)`` (stride None: the window)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"conv layers must be a text like 'c20k5,m2,c50k5,m2', got {text!r}")
    out = []
    for token in re.split(r"[,\-\s]+", text.strip().lower()):
        m = _TOKEN.fullmatch(token)
        if m is None or (m["kind"] == "c") != (m["k"] is not None):
            raise ValueError(f"conv layers: cannot read {token!r} in {text!r} (expected "
                             f"c<channels>k<kernel>[s<stride>][p<padding>] or "
                             f"m<size> / a<size>[s<stride>][p<padding>])")
        stride = None if m["s"] is None else int(m["s"])
        padding = 0 if m["p"] is None else int(m["p"])
        if m["kind"] == "c":
            out.append(("conv", int(m["a"]), int(m["k"]), 1 if stride is None else stride,
                        padding))
        else:
            out.append(({"m": "max", "a": "avg"}[m["kind"]], int(m["a"]), stride, padding))
    return out
