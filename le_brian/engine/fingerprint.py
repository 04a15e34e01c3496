"""What identifies a compiled program: a hash of the Brian2 objects a run builds (every
object's class, name, size, equations, code, schedule slot and order, clock, variables and
dtypes, monitors and their indices, the device's queued initialisation code, the tables'
shapes, the duration and the float type), so no structural field can be forgotten in a
hand-written key."""

import hashlib
import re

import numpy as np
from brian2 import second

__all__ = ["fingerprint", "all_objects"]


_CODEOBJECT_NAME = re.compile(r"\b\w+_codeobject(_\d+)?\b")
# Brian2 names a monitor's own clock "<name>_clock" and suffixes "_1", "_2", ... while a
# clock of that name is alive (an earlier program's): the suffix is not structure.
_CLOCK_SUFFIX = re.compile(r"_clock_\d+(?![0-9])")


def _mask_names(text):
    return _CLOCK_SUFFIX.sub("_clock", _CODEOBJECT_NAME.sub("<codeobject>", text))


def all_objects(network):
    """Every Brian2 object of ``network`` and the objects they contain (code objects,
    updaters), sorted by name."""
    seen, stack = {}, list(network.objects)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen[id(obj)] = obj
        stack.extend(getattr(obj, "contained_objects", []))
    return sorted(seen.values(), key=lambda o: o.name)


def _describe_variable(var):
    desc = [type(var).__name__, str(getattr(var, "dtype", "")), repr(getattr(var, "dim", "")),
            getattr(var, "size", None), getattr(var, "scalar", None),
            getattr(var, "constant", None), getattr(var, "read_only", None)]
    if type(var).__name__ == "Constant":
        desc.append(repr(var.value))
    return desc


def _describe(obj):
    desc = [type(obj).__module__, type(obj).__qualname__, obj.name, obj.when, obj.order,
            float(obj.clock.dt_), bool(obj.active)]
    for attr in ("equations", "abstract_code", "template", "record_variables", "dense",
                 "event", "method_choice", "conv_signature"):
        value = getattr(obj, attr, None)
        if value is not None:
            desc.append((attr, str(value)))
    for attr in ("N", "_N", "source", "target"):
        value = getattr(obj, attr, None)
        if value is not None and not callable(value):
            desc.append((attr, getattr(value, "name", None) or str(value)))
    record = getattr(obj, "record", None)
    if isinstance(record, np.ndarray):
        desc.append(("record", hashlib.sha256(np.ascontiguousarray(record).tobytes()).hexdigest()))
    elif record is not None:
        desc.append(("record", repr(record)))
    variables = getattr(obj, "variables", None)
    if variables is not None:
        own = sorted((name, _describe_variable(v)) for name, v in variables.items()
                     if getattr(v, "owner", None) is obj)
        desc.append(("variables", own))
    return desc


def _describe_device_queue(device):
    """Initialisation operations a standalone device queued while the objects were
    created (synapse creation code, values set in Python); code-object names, which
    Brian2 suffixes when a name was used before in the process, are masked."""
    out = []
    for op, args in getattr(device, "main_queue", []):
        if op == "run_code_object":
            code = args[0].code
            text = "".join(str(getattr(code, f, "")) for f in ("cpp_file", "h_file", "cu_file"))
            out.append((op, args[0].template_name, _mask_names(text)))
        elif op == "set_by_array":
            values = getattr(device, "static_arrays", {}).get(args[1])
            digest = (hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()
                      if values is not None else None)
            out.append((op, _mask_names(repr(args[0])), digest))
        else:
            out.append((op, _mask_names(repr(args))))
    return out


def fingerprint(built, duration, device, dtype, extra=()):
    """A hash of everything that determines a standalone program's binary: every object
    of ``built.network`` (with its contained objects) as `_describe` lists it, the
    network's schedule, the tables' shapes and dtypes, the device's queued
    initialisation code, the duration, the float type and ``extra``."""
    items = [("schedule", list(built.network.schedule)),
             ("duration", float(duration / second)), ("dtype", dtype),
             ("device", type(device).__name__), ("extra", repr(extra))]
    items += [_describe(obj) for obj in all_objects(built.network)]
    for name, ta in sorted(built.tables.items()):
        items.append(("table", name, ta.values.shape, str(ta.values.dtype), float(ta.dt)))
    items.append(("namespace", sorted(built.namespace)))
    items.append(("queue", _describe_device_queue(device)))
    return hashlib.sha256(repr(items).encode()).hexdigest()
