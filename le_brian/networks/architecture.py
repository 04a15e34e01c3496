r"""An architecture of a layered LE network: a checked sequence of layer specifications
(`le_brian.networks.layers`, `le_brian.networks.conv_layers`) with every layer's size,
image shape and geometry, all worked out (and refused) before anything is built.

``[784, 300, 10]`` means ``[Input(784), Dense(300), Dense(10)]``. An image network starts
with ``Input((C, H, W))``; `Conv2D`, `MaxPool2D` and `AvgPool2D` layers follow, then
`Dense` layers, which read the flat vector (C order). Layers are numbered l = 0 (input)
.. L (pools included); the output layer L is a `Dense` or a `Conv2D`. The learnable
layers (Conv2D, Dense) carry the parameters, one entry each, in layer order.
"""

from dataclasses import dataclass

import numpy as np

from .conv_layers import Conv2D, SpatialLayer
from .layers import Dense, Input, Layer

__all__ = ["architecture", "Plan", "plan"]


def architecture(layers):
    """Layer specifications from ``[Input(n0), Dense(n1), ...]`` (or with an image input
    ``Input((C, H, W))``, `Conv2D` and pooling layers) or a list of sizes
    ``[n0, n1, ...]`` (the input, then dense layers). The shapes are checked (`plan`).

    Raises
    ------
    ValueError
        Fewer than two layers, a first entry that is not the input, an input after the
        first entry, a size that is not a positive int, or shapes that do not fit.
    """
    if hasattr(layers, "tolist") and not isinstance(layers, (list, tuple)):
        layers = layers.tolist()  # a NumPy array of sizes
    if not isinstance(layers, (list, tuple)) or len(layers) < 2:
        raise ValueError(f"layer_sizes must be a list of at least 2 positive ints or layer "
                         f"specifications [n_in, ..., n_out] / [Input(n_in), Dense(n), ...], "
                         f"got {layers!r}")
    out = []
    for k, spec in enumerate(layers):
        if isinstance(spec, (Layer, SpatialLayer)):
            out.append(spec)
        elif hasattr(spec, "__index__") and not isinstance(spec, (bool, np.bool_)):
            try:
                out.append(Input(int(spec)) if k == 0 else Dense(int(spec)))
            except ValueError:
                raise ValueError(f"layer_sizes must be a list of at least 2 positive ints "
                                 f"[n_in, ..., n_out], got {layers!r}") from None
        else:
            raise ValueError(f"layer_sizes must be a list of at least 2 positive ints "
                             f"[n_in, ..., n_out], got {layers!r}")
    if not isinstance(out[0], Input) or any(isinstance(x, Input) for x in out[1:]):
        raise ValueError("an architecture starts with one Input layer and has no other")
    for spec in out[1:]:
        if not isinstance(spec, (Dense, SpatialLayer)):
            raise ValueError(f"LENetwork: unsupported layer {spec!r} (layer types: Dense, "
                             f"Conv2D, MaxPool2D, AvgPool2D)")
    plan(out)
    return out


@dataclass(frozen=True)
class Plan:
    """Sizes, image shapes (None for flat layers) and geometries (None for input and
    dense layers) of every layer l = 0..L, and the learnable and neuron layers."""

    sizes: list
    shapes: list
    geometry: list
    learnable: list  # layer numbers l of the Conv2D and Dense layers

    @property
    def spatial(self):
        """Whether any layer is a convolution or a pooling layer."""
        return any(g is not None for g in self.geometry)

    def feedback(self, l):
        """Whether projection l sends errors down: some neuron layer lies below l."""
        return any(m < l for m in self.learnable)


def plan(layers):
    """The `Plan` of checked layer specifications (ValueError if shapes do not fit)."""
    shape = layers[0].shape
    sizes, shapes, geometry, learnable = [layers[0].size], [shape], [None], []
    seen_dense = False
    for l, spec in enumerate(layers[1:], start=1):
        name = type(spec).__name__
        if isinstance(spec, SpatialLayer):
            if seen_dense:
                raise ValueError(f"layer {l} ({name}) comes after a Dense layer: "
                                 f"convolution and pooling layers need an image input, "
                                 f"put them before the Dense layers")
            if shape is None:
                raise ValueError(f"{name} needs an image input: give Input((C, H, W)) "
                                 f"instead of Input({sizes[0]})")
            geo = spec.geometry(shape)
            shape = geo.out_shape
            sizes.append(int(np.prod(shape)))
            shapes.append(shape)
            geometry.append(geo)
            if isinstance(spec, Conv2D):
                learnable.append(l)
        else:
            seen_dense = True
            shape = None
            sizes.append(spec.size)
            shapes.append(None)
            geometry.append(None)
            learnable.append(l)
    if not isinstance(layers[-1], (Dense, Conv2D)):
        raise ValueError(f"the output layer must be Dense or Conv2D, got "
                         f"{type(layers[-1]).__name__}")
    return Plan(sizes, shapes, geometry, learnable)
