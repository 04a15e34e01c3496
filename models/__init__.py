"""Published parameter sets, one module per model (values as Brian2 Quantities, a comment
on each). Installed with the package as `le_brian.models`; read them with
`le_brian.parameter_sets.load_model` / `model_module`.

Modules with a ``TRAINING`` dict are `le-brian train` models; the microcircuit modules
hold the settings of their protocols (`le_brian.protocols`).
"""
