"""The engine: Brian2 devices and compiled programs, the dense fast path and its code
templates, the network lifecycle shared by every network class, results, and argument
validation. Nothing here knows a particular model."""
