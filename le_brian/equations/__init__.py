"""Every Brian2 equation string of le_brian, and the activation table.

The model lives here and nowhere else: builders (`le_brian.networks.layered`,
`le_brian.networks.microcircuit`) only assemble these strings and schedule them.
"""

from . import microcircuit  # noqa: F401
from .activations import ACTIVATIONS, Activation, get_activation
from .layered import (
    INPUT_LAYER,
    INPUT_UPDATE,
    LE_BIAS,
    LE_HIDDEN_ERROR,
    LE_LATCH_ERROR,
    LE_MISMATCH,
    LE_REFERENCE_VARIABLES,
    LE_LAYER,
    LE_OUTPUT_ERROR,
    LE_PROJECTION,
    LE_PROJECTION_FEEDBACK,
    LE_PROSPECTIVE,
    LE_TAU_CLIP,
    hidden_error_code,
    input_code,
    input_equations,
    layer_equations,
    output_error_code,
    projection_equations,
    prospective_code,
)

__all__ = [
    "microcircuit",
    "ACTIVATIONS",
    "Activation",
    "get_activation",
    "INPUT_LAYER",
    "INPUT_UPDATE",
    "LE_BIAS",
    "LE_HIDDEN_ERROR",
    "LE_LATCH_ERROR",
    "LE_MISMATCH",
    "LE_REFERENCE_VARIABLES",
    "hidden_error_code",
    "input_code",
    "input_equations",
    "LE_TAU_CLIP",
    "LE_LAYER",
    "LE_OUTPUT_ERROR",
    "LE_PROJECTION",
    "LE_PROJECTION_FEEDBACK",
    "LE_PROSPECTIVE",
    "layer_equations",
    "output_error_code",
    "projection_equations",
    "prospective_code",
]
