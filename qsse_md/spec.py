"""One validator for TOML input: every table of a recipe, protocol or campaign file is a
frozen dataclass, and :func:`parse` checks a table against it.

A dataclass field is a key; its annotation is the type the value must have (``float``
takes any finite number, ``int`` a whole number, ``tuple[...]`` a list, a dataclass a
sub-table, ``dict[str, Dataclass]`` a table of sub-tables, ``X | None`` may be left out);
:func:`setting` adds a range, a set of choices and a hint on what to write. Every failure
is one :class:`~qsse_md.errors.InputError` line naming the table and key; :func:`parse_file`
adds the file. Old spellings in :data:`RENAMED` are still read, with a one-line note.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

from qsse_md.errors import InputError
from qsse_md.fileio import read_toml

RENAMED = {"tolerance_kj_mol_nm": "tolerance_kj_per_mol_nm"}
"""Old spelling -> the one spelling used by recipes, protocols and campaigns."""
MOVED = {"hydrogen_mass_amu": "hydrogen_mass_amu belongs to the protocol (an integration "
                              "setting); move it to the top of the protocol file"}
"""Keys a table no longer takes -> where they belong now."""
_TYPE_WORDS = {float: "a number", int: "a whole number", str: "text", bool: "true or false"}


def setting(default: Any = dataclasses.MISSING, *, above: float | None = None,
            at_least: float | None = None, at_most: float | None = None,
            choices: tuple | None = None, hint: str = "", convert: Callable | None = None):
    """A dataclass field with the checks :func:`parse` applies to its value.

    Parameters
    ----------
    default : optional
        Default value; without one the key is required.
    above, at_least, at_most : float, optional
        Exclusive lower, inclusive lower and inclusive upper bounds, in the field's unit.
    choices : tuple, optional
        The values allowed.
    hint : str
        What to write instead, appended to every message about this key.
    convert : callable, optional
        Turns the raw TOML value into the field's value (raising ``ValueError``).
    """
    metadata = {"above": above, "at_least": at_least, "at_most": at_most, "choices": choices,
                "hint": hint, "convert": convert}
    return dataclasses.field(default=default, metadata=metadata)


def parse(cls: type, table: Any, where: str, **given):
    """Check ``table`` against the fields of the frozen dataclass ``cls``; return an instance.

    Parameters
    ----------
    cls : type
        Frozen dataclass whose fields are the table's keys.
    table : mapping
        The parsed TOML table.
    where : str
        The table's name in messages, e.g. ``"[box]"``; ``""`` for the top level.
    **given
        Field values that do not come from the table (not keys of it).

    Raises
    ------
    InputError
        Unknown, missing or misspelled keys, wrong types, values out of range.
    """
    keys = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name not in given}
    table = _renamed(where, table, keys)
    check_keys(where, table, set(keys))
    missing = [n for n, f in keys.items() if n not in table and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        hint = keys[missing[0]].metadata.get("hint") or "add it"
        raise InputError(f"{_at(where)}missing {', '.join(missing)}; {hint}")
    hints = typing.get_type_hints(cls)
    values = {name: _value(where, name, table[name], hints[name], keys[name].metadata)
              for name in table}
    try:
        return cls(**values, **given)
    except ValueError as error:
        raise InputError(f"{_at(where)}{error}") from None


def check_keys(where: str, table: Any, allowed: set[str]) -> None:
    """Fail unless ``table`` is a mapping whose keys are all in ``allowed``."""
    if not isinstance(table, Mapping):
        raise InputError(f"{where or 'the file'} must be a TOML table, not {table!r}")
    unknown = sorted(set(table) - allowed - {old for old, new in RENAMED.items() if new in allowed})
    moved = [MOVED[key] for key in unknown if key in MOVED]
    if moved:
        raise InputError(f"{_at(where)}{moved[0]}")
    if unknown:
        raise InputError(f"{_at(where)}unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted(allowed))}")


def require(condition: bool, message: str) -> None:
    """Raise :class:`InputError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise InputError(message)


def parse_file(path: str | Path, what: str, parse_data: Callable[..., Any]):
    """Read the TOML file ``path`` and parse it with ``parse_data(data, default_name=stem)``.

    Raises
    ------
    InputError
        The message of ``parse_data``'s error, prefixed with ``what`` and the path.
    """
    path = Path(path)
    data = read_toml(path, what)
    try:
        return parse_data(data, default_name=path.stem)
    except InputError as error:
        raise InputError(f"{what} {path}: {error}") from None


def _renamed(where: str, table: Any, keys: Mapping) -> Any:
    if not isinstance(table, Mapping):
        return table
    table = dict(table)
    for old, new in RENAMED.items():
        if old in table and new in keys and new not in table:
            warnings.warn(f"{_at(where)}{old} is now spelled {new}; rename it", FutureWarning,
                          stacklevel=3)
            table[new] = table.pop(old)
    return table


def _value(where: str, key: str, value: Any, hint: Any, meta: Mapping) -> Any:
    advice = f"; {meta['hint']}" if meta.get("hint") else ""
    if meta.get("convert"):
        try:
            return meta["convert"](value)
        except ValueError as error:
            raise InputError(f"{_at(where)}{error}") from None
    value = _typed(where, key, value, hint, advice)
    if value is None:
        return value
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise InputError(f"{_at(where)}{key} = {value!r} is not one of "
                         f"{', '.join(map(str, choices))}{advice}")
    above, low, high = meta.get("above"), meta.get("at_least"), meta.get("at_most")
    if above is not None and not value > above:
        raise InputError(f"{_at(where)}{key} = {value!r} must be "
                         f"{'positive' if above == 0 else f'above {above}'}{advice}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = (f">= {low}" if high is None else f"<= {high}" if low is None
                  else f"between {low} and {high}")
        raise InputError(f"{_at(where)}{key} = {value!r} must be {bounds}{advice}")
    return value


def _typed(where: str, key: str, value: Any, hint: Any, advice: str) -> Any:
    """``value`` checked against the annotation ``hint``: lists become tuples, tables dataclasses."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return value if value is None or len(options) > 1 else _typed(where, key, value,
                                                                      options[0], advice)
    if dataclasses.is_dataclass(hint):
        return value if isinstance(value, hint) else parse(hint, value, f"[{_table(where, key)}]")
    if origin is dict and dataclasses.is_dataclass(args[1]):
        require(isinstance(value, Mapping), f"[{_table(where, key)}] must be a TOML table")
        return {name: parse(args[1], sub, f"[{_table(where, key)}.{name}]")
                for name, sub in value.items()}
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or (args[-1] is not Ellipsis
                                                    and len(value) != len(args)):
            size = "a list" if args[-1] is Ellipsis else f"a list of {len(args)}"
            raise InputError(f"{_at(where)}{key} = {value!r} must be {size}{advice}")
        item = args[0]
        return tuple(_typed(where, key, v, item, advice) for v in value)
    if hint in _TYPE_WORDS and not _is(value, hint):
        raise InputError(f"{_at(where)}{key} = {value!r} must be {_TYPE_WORDS[hint]}{advice}")
    return value


def _is(value: Any, kind: type) -> bool:
    if isinstance(value, bool) or kind is bool:
        return isinstance(value, bool) and kind is bool
    if kind is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, kind)


def _table(where: str, key: str) -> str:
    inner = where.strip("[]")
    return f"{inner}.{key}" if inner else key


def _at(where: str) -> str:
    return f"{where}: " if where else ""
