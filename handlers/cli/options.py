"""argparse, as the command line uses it: one-line errors, one-line help
entries, defaults from the environment, and where each value came from."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from .table import Option
from .values import describe

__all__ = [
    "PROG",
    "Parser",
    "HelpFormatter",
    "typed",
    "env_default",
    "add_option",
    "value_source",
    "help_line",
    "GIVEN",
    "dest",
]

PROG = "tornado-socketio-jwt"
GIVEN = "given_flags"  # the namespace attribute: flags on the command line


class Parser(argparse.ArgumentParser):
    """argparse, reporting a usage error as one line (exit status 2), taking
    no abbreviated flags, and noting which flags were given (for error lines)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        args = list(sys.argv[1:] if args is None else args)
        options, rest = super().parse_known_args(args, namespace)
        flags = {arg.split("=", 1)[0] for arg in args if arg.startswith("--")}
        setattr(options, GIVEN, flags)
        return options, rest

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class HelpFormatter(argparse.HelpFormatter):
    """One line per option where it fits; a default only where there is one."""

    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("max_help_position", 32)
        super().__init__(prog, **kwargs)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, "", argparse.SUPPRESS, False):
            text += " (%(default)s)"  # the table's options carry theirs already
        return text


class EnvValue(str):
    """A default read from the environment; argparse converts it, or reports it."""

    variable = ""


def typed(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` whose error says what the value must be and names
    the environment variable when the value came from there."""

    def convert(text: str) -> Any:
        try:
            return kind(text)
        except (ValueError, KeyError):
            where = f"{text.variable}=" if isinstance(text, EnvValue) else ""
            message = f"{where}{str(text)!r} is not {describe(kind)}"
            raise argparse.ArgumentTypeError(message) from None

    convert.__name__ = getattr(kind, "__name__", "value")
    return convert


def env_default(environ: Mapping[str, str], variable: str, default: Any) -> Any:
    """The variable's text (marked as such) if it is set, else ``default``."""
    raw = environ.get(variable)
    if raw is None:
        return default
    value = EnvValue(raw)
    value.variable = variable
    return value


def add_option(
    parser: Any, option: Option, environ: Mapping[str, str] | None, shown: bool = True
) -> None:
    """``option`` as ``--flag VALUE``; ``environ`` None: no default (suppressed),
    so that a subcommand's copy only overrides the main parser's value."""
    default = (
        argparse.SUPPRESS
        if environ is None
        else env_default(environ, option.env, option.default)
    )
    parser.add_argument(
        option.flag,
        type=typed(option.kind),
        default=default,
        metavar=option.metavar,
        help=help_line(option) if shown else argparse.SUPPRESS,
    )


def help_line(option: Option) -> str:
    """``help [VARIABLE] (default)``: the variable only where it is not the
    flag's name in capitals; the default only where there is one."""
    line = option.help
    if option.env != dest(option).upper():
        line += f" [{option.env}]"
    if option.default:
        line += f" ({option.default})"
    return line.replace("%", "%%")


def value_source(
    options: argparse.Namespace, option: Option, environ: Mapping[str, str]
) -> str:
    """Where ``option``'s value came from, in words for an error line."""
    if option.flag in getattr(options, GIVEN, ()):
        return "from the flag"
    if option.env in environ:
        return f"from the environment variable {option.env}"
    return "the default"


def dest(option: Option) -> str:
    """The attribute of the parsed namespace that holds ``option``'s value."""
    return option.flag[2:].replace("-", "_")
