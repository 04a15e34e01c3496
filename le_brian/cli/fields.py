"""Command-line options generated from `le_brian.params` fields: one option per field
(``--tau-m 10ms``, ``--learning-rates 100Hz,50Hz``, ``--spiking / --no-spiking``), with
the field's doc and default as help, and ``--set FIELD=VALUE`` for any field. Values
are text forms the fields check (`le_brian.params.parse_quantity` for Quantities)."""

import argparse
import json
import re
from dataclasses import replace

__all__ = ["add_field_options", "field_values", "parse_field_text", "parse_settings",
           "add_field_argument", "read_field_argument"]

#: Options of le_brian <= 0.2.0 kept as aliases: option -> field.
ALIASES = {"--layers": "hidden", "--learning-rate": "learning_rates"}


def _option(name):
    return "--" + name.replace("_", "-")


def parse_field_text(field, text):
    """The value a command-line text gives ``field`` (checked later by the field):
    Quantities stay text (``"10ms"``), lists are comma-separated, numbers and tables are
    JSON, ``none`` / ``null`` is None."""
    t = text.strip()
    if t.lower() in ("none", "null") and field.optional:
        return None
    if t.startswith(("[", "{")):
        try:
            return json.loads(t)
        except json.JSONDecodeError:
            raise ValueError(f"{_option(field.name)}: cannot read {text!r} as JSON") from None
    if (field.per_layer or field.kind == "ints" or field.pair) and "," in t:
        return [parse_field_text(field, part) for part in t.split(",")]
    if field.unit is not None or field.kind in ("str", "any") or field.choices:
        if field.kind == "any":
            try:
                return json.loads(t)
            except json.JSONDecodeError:
                return t
        return t
    if field.kind == "ints":
        return [_json_number(field, t)]
    if field.kind == "bool":
        if t.lower() not in ("true", "false"):
            raise ValueError(f"{_option(field.name)}: expected true or false, got {text!r}")
        return t.lower() == "true"
    return _json_number(field, t)


def _json_number(field, text):
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"parameter {field.name} must be {field.expects()}, got "
                         f"{text!r}") from None
    return value


def add_field_options(parser, fields, title, others=None):
    """One option per field of ``fields`` (``{name: Field}``) in an argument group;
    ``others``: ``(fields, label)`` of a second parameter set whose other fields get
    options too and whose differing defaults the help names."""
    group = parser.add_argument_group(title)
    other_fields, label = others if others else ({}, "")
    for name, f in {**fields, **{k: v for k, v in other_fields.items()
                                 if k not in fields}}.items():
        if _option(name) in parser._option_string_actions:
            continue  # an option of the command itself (e.g. --model)
        alt = other_fields.get(name)
        note = ""
        if name not in fields:
            note = f"; {label} only"
        elif alt is not None and alt.to_json(alt.default) != f.to_json(f.default):
            note = f"; {label}: default {alt.text(alt.default)}"
        aliases = [a for a, target in ALIASES.items() if target == name]
        default = f"default: {f.text(f.default)}"
        if f.kind == "bool" and f.unit is None:
            group.add_argument(_option(name), dest=f"field:{name}", default=None,
                               action=argparse.BooleanOptionalAction,
                               help=f"{f.doc} ({default}{note})")
            continue
        unit = ""
        if f.unit:
            example = f.text(f.default) if f.default is not None else f"1 {f.unit}"
            unit = f" in {f.unit}, e.g. {example}"
        choices = f"; one of {', '.join(f.choices)}" if f.choices else ""
        group.add_argument(_option(name), *aliases, dest=f"field:{name}", default=None,
                           metavar=name.upper(),
                           help=f"{f.doc}{unit}{choices} ({default}{note})".replace("%", "%%"))


def field_values(args, fields):
    """``{name: value}`` of the options given on the command line (None: not given)."""
    out = {}
    for name, f in fields.items():
        text = getattr(args, f"field:{name}", None)
        if text is None:
            continue
        value = text if isinstance(text, bool) else parse_field_text(f, text)
        try:
            f.check(value)
        except ValueError as err:  # name the option the user typed
            raise ValueError(f"{_option(name)} {text!r}: {err}") from None
        out[name] = value
    return out


def parse_settings(items, fields):
    """``--set FIELD=VALUE`` items as ``{name: value}``: VALUE read as the field's text
    form (names of 0.2.0 run folders, such as ``tau_m_ms``, are read as JSON)."""
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--set expects FIELD=VALUE, got {item!r}")
        if name in fields:
            out[name] = parse_field_text(fields[name], text)
        else:  # unknown or 0.2.0 names: checked by the parameter set
            try:
                out[name] = json.loads(text)
            except json.JSONDecodeError:
                out[name] = text
    return out


_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


def read_field_argument(field, text, plain_numbers=True):
    """One value of a script's option made from ``field`` (`add_field_argument`): the
    field's text form (``"10 ms"``, ``"2kHz"``), checked by the field; with
    ``plain_numbers`` a bare number is read in the field's unit (``"0.5"`` -> 0.5 ms, the
    scripts' spelling of le_brian <= 0.2.0), or in the unit ``plain_numbers`` names
    (``"s"``).

    Raises
    ------
    argparse.ArgumentTypeError
        The field's message (names the parameter and what it expects).
    """
    one = replace(field, per_layer=False, pair=False, optional=False)
    t = text.strip()
    if field.unit is not None and plain_numbers and _PLAIN_NUMBER.match(t):
        unit = field.unit if plain_numbers is True else plain_numbers
        value = float(t) * replace(field, unit=unit).quantity_unit
    else:
        value = parse_field_text(one, t)
    try:
        return one.check(value)
    except ValueError as err:  # name the text the user typed
        head, sep, tail = str(err).rpartition(f"got {value!r}")
        message = f"{head}got {text!r}{tail}" if sep else str(err)
        raise argparse.ArgumentTypeError(message) from None


def add_field_argument(parser, field, option=None, default=None, nargs=None, doc=None,
                       plain_numbers=True, **kwargs):
    """An option of a figure or experiment script made from a parameter ``field``: its
    values are the field's text forms (``--times 1ms 10ms``), checked by the field, and
    its help shows the field's doc, unit and default, so that a script writes no unit,
    default or check of its own.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argument group
    field : le_brian.params.Field
    option : str, optional
        The option (default ``--`` + the field's name with dashes).
    default : object, optional
        The script's default if it differs from the field's (Quantities; a list with
        ``nargs``).
    nargs : str or int, optional
        As in argparse (``"+"``: several values, one per token).
    doc : str, optional
        The help text if the script's meaning differs from the field's doc.
    plain_numbers : bool or str
        Read a bare number in the field's unit (the 0.2.0 spelling of the scripts), or in
        the unit this names (``"s"``); False: refuse it (the field's message).
    **kwargs
        Passed to ``add_argument`` (``dest``, ``metavar``).

    Returns
    -------
    argparse.Action
    """
    if default is None:
        default = field.default
    shown = (" ".join(field.text(v) for v in default) if isinstance(default, list)
             else field.text(default))
    unit = ""
    if field.unit is not None:
        first = default[0] if isinstance(default, list) and default else default
        example = field.text(first) if first is not None else f"1 {field.unit}"
        plain = field.unit if plain_numbers is True else plain_numbers
        unit = f", in {field.unit} such as '{example}'" + (
            f" (a plain number: {plain})" if plain_numbers else "")
    choices = f"; one of {', '.join(field.choices)}" if field.choices else ""
    text = f"{doc or field.doc}{unit}{choices} (default: {shown})"
    return parser.add_argument(option or _option(field.name), default=default, nargs=nargs,
                               type=lambda t: read_field_argument(field, t, plain_numbers),
                               help=text.replace("%", "%%"), **kwargs)
