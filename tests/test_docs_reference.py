"""The generated references cover the code: every option, field and public name.

docs/generate.py builds the configuration, API and performance pages from the
code at ``make docs``; these tests fail when something is added without its
entry (an option, a settings field without its ``:param:`` line, a public name
without a docstring).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

import tornado_socketio_jwt
from tornado_socketio_jwt.cli.parser import make_parser

ROOT = Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location(
    "docs_generate", ROOT / "docs" / "generate.py"
)
assert _SPEC is not None and _SPEC.loader is not None
generate: Any = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(generate)


@pytest.fixture(scope="module")
def configuration() -> str:
    return generate.configuration()  # type: ignore[no-any-return]


def test_every_settings_field_has_a_row_with_a_meaning(configuration: str) -> None:
    rows = list(generate.settings_rows())
    assert len(rows) >= 22
    assert [row.name for row in rows if not row.text] == []
    for row in rows:
        assert f"| `{row.name}` |" in configuration


@dataclasses.dataclass(frozen=True)
class Limits:
    """Limits.

    :param per_user: sockets per user.
    """

    per_user: int = 50


@dataclasses.dataclass(frozen=True)
class Settings:
    """Settings.

    :param limits: the limits.
    :param ttl: lifetime,
                in seconds.
    """

    limits: Limits = dataclasses.field(default_factory=Limits)
    ttl: int = 60


def test_nested_settings_groups_are_walked_as_group_dot_field() -> None:
    rows = list(generate.settings_rows(Settings))
    assert [(r.name, r.default, r.text) for r in rows] == [
        ("limits.per_user", 50, "sockets per user."),
        ("ttl", 60, "lifetime, in seconds."),
    ]


def test_every_option_of_every_command_is_in_the_reference(configuration: str) -> None:
    flags = generate.command_flags()
    assert {"serve", "adduser", "genkey"} <= set(flags)
    missing = [
        (command, flag)
        for command, found in flags.items()
        for flag in found
        if f"| `{flag}` |" not in configuration
    ]
    assert missing == []


def test_the_option_table_is_the_serve_commands_whole_list() -> None:
    table = {option.flag for option in generate.option_table()}
    assert table == generate.command_flags()["serve"]
    assert all(option.variable and option.text for option in generate.option_table())


def test_serve_options_show_their_environment_variable_and_default(
    configuration: str,
) -> None:
    assert (
        "| `--port` | `PORT` | a TCP port number from 0 to 65535 | `9000` |"
        in configuration
    )
    assert "| `--redis-url` | `REDIS_URL` | a string; empty: none | (none) |" in (
        configuration
    )


def test_the_reference_shows_defaults_the_parser_really_uses(
    configuration: str,
) -> None:
    parsed = vars(make_parser(environ={}).parse_args([]))
    for option in generate.option_table():
        dest = option.flag.lstrip("-").replace("-", "_")
        assert parsed[dest] == option.default, option.flag


def test_every_public_name_has_a_docstring() -> None:
    assert generate.missing_docstrings() == []


def test_a_public_name_without_a_docstring_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Undocumented(Exception):
        pass

    monkeypatch.setattr(tornado_socketio_jwt, "Undocumented", Undocumented, False)
    names = [*tornado_socketio_jwt.__all__, "Undocumented"]
    monkeypatch.setattr(tornado_socketio_jwt, "__all__", names)
    assert generate.missing_docstrings() == ["Undocumented"]


def test_the_api_reference_renders_every_public_name_once() -> None:
    lines = generate.api().splitlines()
    for name in tornado_socketio_jwt.__all__:
        assert lines.count(f"::: tornado_socketio_jwt.{name}") == 1, name


def test_the_performance_page_is_the_published_runs_tables_without_targets() -> None:
    published = json.loads(generate.RESULTS.read_text())
    page = generate.performance()
    assert published["command"] in page
    assert "| server CPU per websocket handshake (us) |" in page
    assert "Targets" not in page and "| met |" not in page


def test_marked_lines_are_replaced_by_their_generator() -> None:
    text = "# Title\n\n<!-- generated: api -->\n"
    assert "::: tornado_socketio_jwt.attach_jwt_auth" in generate.expand(text)
    with pytest.raises(KeyError):
        generate.expand("<!-- generated: nothing -->")
