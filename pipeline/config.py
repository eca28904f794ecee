"""One config mechanism: a job's dataclass is the single source of its defaults, help, limits,
validation, CLI flags, saved params and the UI form's defaults.

    @dataclass
    class EvalConfig(JobConfig):
        limit: int = field(default=0, metadata={"help": "only the first N tasks (0 = all)", "min": 0})
        def check(self): ...                     # rules across fields, raising ConfigError

    add_config_arguments(parser, EvalConfig)     # --limit N, --no-execute, --suites a b
    cfg = EvalConfig.from_args(args)             # or .from_dict(saved_params): both validate
    cfg.command_line("python -m evals passk run")  # the quoted CLI twin of a UI action

Field metadata: `help` (required, checked by tests/test_docs.py), and optionally `min`, `max`,
`choices`, which `validate` enforces with one message used by the CLI and the UI alike. Unknown
keys are refused everywhere. transformers' HfArgumentParser was weighed and not used: it passes
field metadata verbatim to argparse (so limits could not live there), rewrites `field.type` on the
class, has no public hook for subcommands, and costs a second of import on every CLI start.
"""
from __future__ import annotations

import argparse
import shlex
import types
import typing
from dataclasses import MISSING, Field, asdict, fields
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

C = TypeVar("C", bound="JobConfig")
D = TypeVar("D", bound="DataclassInstance")  # any settings dataclass (PairFilter, ChatSettings, …)


def _base_type(hint: Any) -> tuple[type, bool]:
    """(scalar type, is_list) for hints like int, float | None, list[str]."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
    if origin is list:
        return typing.get_args(hint)[0], True
    return hint, False


def _optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)


def _default(f: Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def add_config_arguments(parser: argparse.ArgumentParser, cls: type[DataclassInstance], skip: tuple[str, ...] = ()) -> None:
    """One flag per field (--near-threshold 0.8, --no-exact-dedup, --suites a b)."""
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if f.name in skip:
            continue
        scalar, is_list = _base_type(hints[f.name])
        names = [flag(f.name), *f.metadata.get("aliases", ())]
        text = f"{f.metadata.get('help', f.name)} (default: {_default(f)})"
        if "choices" in f.metadata:
            text += f"; one of: {', '.join(map(str, f.metadata['choices']))}"
        if scalar is bool:
            parser.add_argument(*names, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif is_list:
            parser.add_argument(*names, dest=f.name, nargs="*", type=scalar, default=None, help=text)
        else:
            parser.add_argument(*names, dest=f.name, type=scalar, default=None, help=text)


def config_from_args(cls: type[D], args: argparse.Namespace, **overrides: Any) -> D:
    """The config with every flag the user gave (flags left out keep the dataclass defaults)."""
    given = {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}
    return config_from_dict(cls, {**given, **overrides})


def config_from_dict(cls: type[D], data: dict | None) -> D:
    """Build a config from JSON-ish params, converting '0.8' → 0.8 and 'yes' → True, with a clear
    message for unknown names or values of the wrong type."""
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        scalar, is_list = _base_type(hints[name])
        if value is None or (value == "" and scalar is not str):
            if _optional(hints[name]):
                values[name] = None
            continue   # an emptied form box means the default
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
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    if scalar in (dict, typing.Any):
        return value
    try:
        return scalar(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {scalar.__name__}, got {value!r}") from None


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_limits(cfg: DataclassInstance) -> None:
    """Enforce each field's `min`, `max` and `choices` metadata with one message for CLI and UI
    (the error says which config it came from, so a form can name its own box)."""
    try:
        _check_limits(cfg)
    except ConfigError as exc:
        exc.config = type(cfg).__name__
        raise


def _check_limits(cfg: DataclassInstance) -> None:
    for f in fields(cfg):
        value, meta = getattr(cfg, f.name), f.metadata
        if value is None:
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if "choices" in meta and item not in meta["choices"]:
                raise ConfigError(f"{flag(f.name)} must be one of {', '.join(map(str, meta['choices']))}"
                                  f" (got {item!r})")
            if "min" in meta and isinstance(item, (int, float)) and item < meta["min"]:
                raise ConfigError(f"{flag(f.name)} must be at least {meta['min']} (got {item})")
            if "max" in meta and isinstance(item, (int, float)) and item > meta["max"]:
                raise ConfigError(f"{flag(f.name)} must be at most {meta['max']} (got {item})")


class JobConfig:
    """Behaviour shared by every job's config dataclass (subclass it, then decorate @dataclass)."""

    if TYPE_CHECKING:  # what @dataclass gives each subclass
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @classmethod
    def from_dict(cls: type[C], data: dict | None) -> C:
        """From saved job params or a form: strings converted, unknown names refused, validated."""
        try:
            cfg = config_from_dict(cls, data)
        except ConfigError:
            raise
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return cfg.validate()

    @classmethod
    def from_args(cls: type[C], args: argparse.Namespace, **overrides: Any) -> C:
        return cls.from_dict({**{f.name: getattr(args, f.name) for f in fields(cls)
                                 if getattr(args, f.name, None) is not None}, **overrides})

    def validate(self: C) -> C:
        check_limits(self)
        self.check()
        return self

    def check(self) -> None:
        """Rules across fields; override and raise ConfigError."""

    def to_dict(self) -> dict:
        return asdict(self)

    def command_line(self, prog: str, positional: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> str:
        """The shell command that does the same thing: only settings that differ from the defaults,
        every value quoted, so it runs as shown."""
        words = shlex.split(prog) + [str(getattr(self, name)) for name in positional]
        for f in fields(self):
            if f.name in positional or f.name in skip:
                continue
            value = getattr(self, f.name)
            if value == _default(f):
                continue
            if isinstance(value, bool):
                words.append(flag(f.name) if value else "--no-" + f.name.replace("_", "-"))
            elif isinstance(value, (list, tuple)):
                words += [flag(f.name), *map(str, value)]
            elif value is not None:
                words += [flag(f.name), str(value)]
        return shlex.join(words)

    @classmethod
    def default(cls, name: str) -> Any:
        return _default(cls.__dataclass_fields__[name])

    @classmethod
    def help(cls, name: str) -> str:
        return str(cls.__dataclass_fields__[name].metadata.get("help", name))

    @classmethod
    def limits(cls, name: str) -> dict:
        meta = cls.__dataclass_fields__[name].metadata
        return {k: meta[k] for k in ("min", "max", "choices") if k in meta}
