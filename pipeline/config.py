"""A job config dataclass is the single source of its defaults and help: these helpers turn its
fields into CLI flags and turn saved/JSON params back into a checked instance."""
from __future__ import annotations

import argparse
import types
import typing
from dataclasses import MISSING, fields
from typing import Any


def _base_type(hint) -> tuple[type, bool]:
    """(scalar type, is_list) for hints like int, float | None, list[str]."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
    if origin is list:
        return typing.get_args(hint)[0], True
    return hint, False


def _default(f) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def add_config_arguments(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """One flag per field (--near-threshold 0.8, --no-exact-dedup, --suites a b)."""
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if f.name in skip:
            continue
        scalar, is_list = _base_type(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        text = f"{f.metadata.get('help', f.name)} (default: {_default(f)})"
        if scalar is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif is_list:
            parser.add_argument(flag, dest=f.name, nargs="*", type=scalar, default=None, help=text)
        else:
            parser.add_argument(flag, dest=f.name, type=scalar, default=None, help=text)


def config_from_args(cls, args: argparse.Namespace, **overrides):
    """The config with every flag the user gave (flags left out keep the dataclass defaults)."""
    given = {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}
    return config_from_dict(cls, {**given, **overrides})


def config_from_dict(cls, data: dict | None):
    """Build a config from JSON-ish params, converting '0.8' → 0.8 and 'yes' → True, with a clear
    message for unknown names or values of the wrong type."""
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown {cls.__name__} setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
    values = {}
    for name, value in data.items():
        scalar, is_list = _base_type(hints[name])
        if value is None:
            values[name] = None
        elif is_list:
            items = value if isinstance(value, (list, tuple)) else [v for v in str(value).split(",") if v.strip()]
            values[name] = [_convert(scalar, v, name) for v in items]
        else:
            values[name] = _convert(scalar, value, name)
    return cls(**values)


def _convert(scalar: type, value: Any, name: str) -> Any:
    if scalar is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{name} must be true or false, got {value!r}")
    if scalar in (dict, typing.Any):
        return value
    try:
        return scalar(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {scalar.__name__}, got {value!r}") from None
