"""One description of le_brian's parameters: typed, frozen, Quantity-valued groups.

Every parameter is a `Field` (unit, default, check, one-line doc) of one
`ParameterGroup`; a `ParameterSet` composes groups under one flat namespace
(`LENetworkParameters`, `MicrocircuitParameters`, `TrainingParameters`). The JSON / TOML
form writes Quantities as text with units (``"10 ms"``, ``"2 kHz"``, ``"0.03 / ms"``),
read back by `parse_quantity` to the same float. Network constructors take their
defaults from these fields, run folders store a set's JSON form, ``le-brian train``
makes one option per field (`add_field_options`) and sweep tables check values with
them.

Examples
--------
>>> from le_brian.params import TrainingParameters
>>> p = TrainingParameters(presentation_time="10 ms", hidden=[30])
>>> p.presentation_time
10. * msecond
>>> p.to_json()["training"]["presentation_time"]
'10 ms'
"""

from .fields import (UNITS, Field, ParameterError, ParameterTypeError, ParameterUnitError,
                     format_quantity, parse_quantity)
from .groups import (HAND_DOWN, INITS, MICROCIRCUIT_PROTOCOLS, MODES, MicrocircuitTraining,
                     MicrocircuitTrainingParameters, SCHEMES, SYNAPSE_KINDS, TARGET_TYPES,
                     TAU_LEARNING, Dynamics, Learning, LENetworkParameters,
                     MicrocircuitDynamics, MicrocircuitLearning, MicrocircuitParameters,
                     MicrocircuitSpiking, ParameterGroup, ParameterSet, Simulation, Spiking,
                     Substrate, Training, TrainingParameters)

__all__ = ["Field", "ParameterError", "ParameterTypeError", "ParameterUnitError", "ParameterGroup", "ParameterSet", "UNITS",
           "parse_quantity", "format_quantity", "Dynamics", "Learning", "Spiking",
           "Substrate", "Simulation", "Training", "MicrocircuitDynamics",
           "MicrocircuitLearning", "MicrocircuitSpiking", "LENetworkParameters",
           "MicrocircuitParameters", "TrainingParameters", "MicrocircuitTraining",
           "MicrocircuitTrainingParameters", "MICROCIRCUIT_PROTOCOLS", "SCHEMES", "HAND_DOWN",
           "SYNAPSE_KINDS", "TARGET_TYPES", "MODES", "INITS", "TAU_LEARNING"]
