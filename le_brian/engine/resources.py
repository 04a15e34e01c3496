"""Memory a network will need, estimated before anything is allocated.

A network's size is given by small numbers (``layer_sizes``, ``n_per_unit``) that can
ask for far more memory than a machine has: ``n_per_unit=10**9`` on three units is
3e9 Brian2 neurons and synapses, ``[10**5, 10**5]`` is 1e10 weights. `check_memory`
estimates the peak memory of building such a network from these numbers and refuses
(ValueError with the estimate, the limit and how to raise it) before allocating.

The limit is ``$LE_BRIAN_MAX_MEMORY`` (a size such as ``64G``; suffixes K, M, G, T),
by default this machine's physical memory. The estimate is deliberately simple and
generous (it is an order of magnitude, not a measurement):

* ``BYTES_PER_WEIGHT`` per weight, with up to ``PROJECTIONS_PER_LAYER`` weight matrices
  per pair of adjacent layers (feedforward, feedback and interneuron projections):
  the parameter arrays, Brian2's copy, index arrays of plain synapses and the
  temporaries of building them;
* ``BYTES_PER_UNIT`` per rate unit (a NeuronGroup's state variables and monitors);
* ``BYTES_PER_SPIKING_NEURON`` per Brian2 neuron of a spiking view (``n_per_unit`` per
  unit): its spike group's variables, the synapse that sums its spikes onto its unit
  (pre/post indices and Brian2's bookkeeping) and the index arrays of creating both;
  ``BYTES_PER_COUNTED_NEURON`` with ``spike_draw='counts'`` (no Brian2 object per
  neuron).
"""

import os
import re

__all__ = ["BYTES_PER_WEIGHT", "BYTES_PER_UNIT", "BYTES_PER_SPIKING_NEURON",
           "BYTES_PER_COUNTED_NEURON",
           "PROJECTIONS_PER_LAYER", "check_memory", "estimate_network_bytes", "format_size",
           "memory_limit", "parse_size"]

#: Bytes per synapse (weight, its indices and Brian2's bookkeeping), an upper estimate.
BYTES_PER_WEIGHT = 48
#: Projections counted per layer (the microcircuit's W_up, W_down, W_ip, W_pi).
PROJECTIONS_PER_LAYER = 4
#: Bytes per rate unit (its state variables), an upper estimate.
BYTES_PER_UNIT = 512
#: Bytes per spiking Brian2 neuron (measured ~92 on runtime), an upper estimate.
BYTES_PER_SPIKING_NEURON = 160
#: Bytes per neuron of a unit whose spike count is drawn at once (``spike_draw='counts'``):
#: no Brian2 object per neuron, only the dead times of the neurons a recording names.
BYTES_PER_COUNTED_NEURON = 16

_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}


def parse_size(text, name):
    """Bytes from ``'500M'``, ``'2G'``, ``'1.5k'``, ``'123'`` (optional ``B`` / ``iB``);
    ValueError naming ``name`` for anything else."""
    text = str(text).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", text, flags=re.IGNORECASE)
    if match is None:
        raise ValueError(f"{name} must be a size such as 500M or 2G (bytes with an optional "
                         f"K/M/G/T suffix), got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def format_size(n):
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def memory_limit():
    """``$LE_BRIAN_MAX_MEMORY`` in bytes, else this machine's physical memory (None when
    it cannot be read: no limit)."""
    value = os.environ.get("LE_BRIAN_MAX_MEMORY", "").strip()
    if value:
        return parse_size(value, "LE_BRIAN_MAX_MEMORY")
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def estimate_network_bytes(layer_sizes, spiking_units=0, n_per_unit=0, weights=None,
                           bytes_per_neuron=BYTES_PER_SPIKING_NEURON):
    """Estimated peak bytes of building a network of ``layer_sizes`` whose
    ``spiking_units`` units have ``n_per_unit`` spiking neurons each of
    ``bytes_per_neuron`` (module docstring); ``weights``: the number of synapses when
    the projections are not all-to-all."""
    sizes = [int(n) for n in layer_sizes]
    if weights is None:
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return (PROJECTIONS_PER_LAYER * BYTES_PER_WEIGHT * weights + BYTES_PER_UNIT * sum(sizes)
            + int(bytes_per_neuron) * int(spiking_units) * int(n_per_unit))


def check_memory(estimate, what):
    """ValueError when ``estimate`` bytes exceed `memory_limit`; ``what`` names the
    parameters that ask for it (e.g. ``'layer_sizes [3, 10, 2] with n_per_unit = 10**9'``)."""
    limit = memory_limit()
    if limit is not None and estimate > limit:
        source = ("LE_BRIAN_MAX_MEMORY" if os.environ.get("LE_BRIAN_MAX_MEMORY", "").strip()
                  else "this machine's memory")
        raise ValueError(f"{what} needs about {format_size(estimate)} of memory, more than "
                         f"the limit of {format_size(limit)} ({source}); use a smaller "
                         f"network, or set LE_BRIAN_MAX_MEMORY (e.g. 256G) if the machine "
                         f"has it")
