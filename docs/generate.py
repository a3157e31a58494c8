"""The generated parts of the documentation, read from the code and the bench.

A page asks for one with a line ``<!-- generated: NAME -->``; ``docs/hooks.py``
puts ``GENERATORS[NAME]()`` there at build time, and the tests call the same
functions, so an option, a field or a public name without its entry fails.

The options of ``serve`` come from ``cli/table.py`` (each row names the
settings field it fills: ``auth.*`` for :class:`AuthSettings`, ``server.*`` for
what only the standalone server has).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import itertools
import json
import re
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "tornado_socketio_jwt"
RESULTS = ROOT / "docs" / "performance" / "latest.json"
MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.M)


class Option(NamedTuple):
    """One command-line option as the reference shows it."""

    flag: str
    variable: str
    kind: str
    default: Any  # the value the option has when nothing sets it
    text: str
    field: str
    typed: str  # that default as one would type it


class Setting(NamedTuple):
    """One settings field (nested groups as ``group.field``)."""

    name: str
    kind: str
    default: Any
    text: str


def settings_class() -> type:
    """The settings class the reference documents."""
    return importlib.import_module(PACKAGE).AuthSettings  # type: ignore[no-any-return]


def option_table() -> Iterator[Option]:
    """Every option of ``serve``, from the command line's one table."""
    table = importlib.import_module(f"{PACKAGE}.cli.table")
    values = importlib.import_module(f"{PACKAGE}.cli.values")
    for row in table.OPTIONS:
        kind, default = values.describe(row.kind), row.kind(row.default)
        yield Option(row.flag, row.env, kind, default, row.help, row.field, row.default)


# ---- the settings -----------------------------------------------------------------


def param_docs(cls: type) -> dict[str, str]:
    """``:param name: text`` of a class docstring, each as one line."""
    doc = inspect.getdoc(cls) or ""
    found = re.finditer(r"^:param (\w+):(.*(?:\n[ \t]+\S.*)*)", doc, re.M)
    return {m[1]: " ".join(m[2].split()) for m in found}


def settings_rows(cls: type | None = None, prefix: str = "") -> Iterator[Setting]:
    """Every field, walking nested settings groups (dataclasses) recursively."""
    cls = settings_class() if cls is None else cls
    docs, hints = param_docs(cls), typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        hint = hints.get(field.name)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            yield from settings_rows(hint, f"{prefix}{field.name}.")
            continue
        if field.default is not dataclasses.MISSING:
            default: Any = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = dataclasses.MISSING
        kind = field.type if isinstance(field.type, str) else repr(field.type)
        yield Setting(prefix + field.name, kind, default, docs.get(field.name, ""))


# ---- the command line -------------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps sub-parsers nowhere public
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _groups(parser: argparse.ArgumentParser) -> Iterator[tuple[str, list[Any]]]:
    for group in parser._action_groups:
        actions = [
            a
            for a in group._group_actions
            if a.help != argparse.SUPPRESS
            and not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
        ]
        if actions:
            yield group.title or "options", actions


def command_flags() -> dict[str, set[str]]:
    """Every visible option and argument of every command, for the tests."""
    parser = importlib.import_module(f"{PACKAGE}.cli.parser").make_parser(environ={})
    found: dict[str, set[str]] = {}
    for name, sub in _subcommands(parser).items():
        found[name] = {
            a.option_strings[-1] if a.option_strings else a.dest
            for _, actions in _groups(sub)
            for a in actions
        }
    return found


def _cell(value: Any) -> str:
    if value is dataclasses.MISSING:
        return "required"
    if value in ("", None):
        return "(none)" if value == "" else "`None`"
    return f"`{value!r}`" if not isinstance(value, str) else f"`{value}`"


def configuration() -> str:
    """The configuration reference: the options of each command, then the settings."""
    parser = importlib.import_module(f"{PACKAGE}.cli.parser").make_parser(environ={})
    commands = _subcommands(parser)
    table = {option.flag: option for option in option_table()}
    out = ["## The `serve` command", ""]
    for title, actions in _groups(commands["serve"]):
        out += [f"### {title.capitalize()}", ""]
        out += ["| option | environment | value | default | meaning | sets |"]
        out += ["| --- | --- | --- | --- | --- | --- |"]
        for action in actions:
            option = table[action.option_strings[-1]]
            out.append(
                f"| `{option.flag}` | `{option.variable}` | {option.kind} | "
                f"{_cell(option.typed)} | {_escape(option.text)} | "
                f"`{option.field}` |"
            )
        out.append("")
    for name, sub in commands.items():
        if name == "serve":
            continue
        out += [f"## The `{name}` command", "", _escape(sub.description or ""), ""]
        out += ["| argument | default | meaning |", "| --- | --- | --- |"]
        for _, actions in _groups(sub):
            for action in actions:
                flag = (
                    action.option_strings[-1] if action.option_strings else action.dest
                )
                default = (
                    None if action.default == argparse.SUPPRESS else action.default
                )
                out.append(
                    f"| `{flag}` | {_cell(default)} | {_escape(action.help or '')} |"
                )
        out.append("")
    out += ["## `AuthSettings`", "", _escape(_first_line(settings_class())), ""]
    out += ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
    for row in settings_rows():
        out.append(
            f"| `{row.name}` | `{_escape(row.kind)}` | {_cell(row.default)} | "
            f"{_escape(_rst_to_md(row.text))} |"
        )
    return "\n".join(out) + "\n"


def _first_line(obj: Any) -> str:
    return (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ")


def _rst_to_md(text: str) -> str:
    text = re.sub(r":\w+:`([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


# ---- the API ----------------------------------------------------------------------

API_GROUPS: dict[str, tuple[str, ...]] = {
    "Attaching to a server": (
        "attach_jwt_auth",
        "AuthSettings",
        "SocketLimits",
        "Transport",
        "SettingError",
        "redacting_log_function",
        "socketio_json",
    ),
    "In your handlers": (
        "current_user",
        "user_room",
        "AUTHENTICATED_ROOM",
        "AuthNamespace",
        "authenticator_for",
        "Authenticator",
    ),
    "Authorization": (
        "Requirement",
        "authorize_namespace",
        "authorize_event",
        "requires",
    ),
    "Users": ("UserStore", "SQLiteUserStore", "User"),
    "Keys": ("KeySource", "SharedSecretKey", "KeyRing", "JWKSKeySource"),
    "Tokens": ("issue_token", "verify_token"),
    "Revocation": ("RevocationList", "RevocationStore", "SQLiteRevocationStore"),
}


def public_names() -> list[str]:
    """``tornado_socketio_jwt.__all__``."""
    return list(importlib.import_module(PACKAGE).__all__)


def api() -> str:
    """One mkdocstrings block per public name, grouped; the rest under "Errors"."""
    names = public_names()
    grouped = {n for group in API_GROUPS.values() for n in group}
    errors = [n for n in names if n not in grouped and n.endswith("Error")]
    other = [n for n in names if n not in grouped and n not in errors]
    groups = {**API_GROUPS, "Errors": tuple(errors), "Other": tuple(other)}
    out = []
    for title, members in groups.items():
        present = [n for n in members if n in names]
        if present:
            out += [f"## {title}", ""]
            out += [f"::: {PACKAGE}.{name}\n" for name in present]
    return "\n".join(out)


def missing_docstrings() -> list[str]:
    """The public names with no docstring of their own."""
    package = importlib.import_module(PACKAGE)
    return [n for n in public_names() if not _has_docstring(getattr(package, n), n)]


def _has_docstring(obj: Any, name: str) -> bool:
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__") or ""
        return bool(doc.strip()) and not doc.startswith(f"{obj.__name__}(")
    if callable(obj):
        return bool((obj.__doc__ or "").strip())
    return any(name in _attribute_docstrings(m) for m in _modules_defining(name))


def _modules_defining(name: str) -> Iterator[Path]:
    for path in (ROOT / "handlers").rglob("*.py"):
        if re.search(rf"^{re.escape(name)}\b\s*(:.*)?=", path.read_text(), re.M):
            yield path


def _attribute_docstrings(path: Path) -> set[str]:
    """Module-level names followed by a string literal (an attribute docstring)."""
    body = ast.parse(path.read_text()).body
    documented = set()
    for node, after in itertools.pairwise(body):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        is_doc = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
        if is_doc and isinstance(after.value.value, str):  # type: ignore[attr-defined]
            documented |= {t.id for t in targets if isinstance(t, ast.Name)}
    return documented


# ---- performance ------------------------------------------------------------------


def _bench(module: str) -> Any:
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))  # the bench's modules import so
    return importlib.import_module(module)


def performance() -> str:
    """The latest published ``make bench`` run, rendered by the bench's own report."""
    document = json.loads(RESULTS.read_text())
    machine = document["machine"]
    out = [
        f"From `{document['command']}` on Python {machine['python']}, "
        f"{machine['cpus']} CPUs, 1-minute load average "
        f"{machine['loadavg_before']:.1f} before and {machine['loadavg_after']:.1f} "
        f"after; {document['seconds']:.0f} s in all.",
        "",
    ]
    if "servers" in document:
        medians = {k: v["median"] for k, v in document["servers"].items()}
        out += ["### Servers side by side", ""]
        out += [_bench("report").tables(medians, document["plan"]["runs"]), ""]
        if (RESULTS.parent / "chart.png").is_file():
            out += ["![Memory and p99 against sockets](chart.png)", ""]
    if "timers" in document:
        sockets = 2000 if "--quick" in document["command"] else 10_000
        repeat = 1 if "--quick" in document["command"] else 3
        text = _bench("timers").report(document["timers"], sockets, repeat)
        out += ["### Expiry timers", "", "```text", text, "```", ""]
    if "login_timing" in document:
        text = _bench("login_timing").report(document["login_timing"])
        out += ["### Login timing", "", "```text", text, "```", ""]
    if "json_codec" in document:
        text = _bench("json_codec").report(document["json_codec"])
        out += ["### Socket.IO packets: JSON codecs", "", text, ""]
    if "recovery" in document:
        out += ["### Connection state recovery", ""]
        out += [_bench("recovery").report(document["recovery"]), ""]
    if "scale_out" in document:
        out += ["### One process and two, behind nginx", ""]
        out += [_bench("scale_out").report(document["scale_out"]), ""]
    return "\n".join(out)


GENERATORS: dict[str, Callable[[], str]] = {
    "configuration": configuration,
    "api": api,
    "performance": performance,
}


def expand(markdown: str) -> str:
    """``markdown`` with each ``<!-- generated: NAME -->`` line replaced."""
    return MARKER.sub(lambda m: GENERATORS[m[1]](), markdown)
