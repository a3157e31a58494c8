"""The command line's one table: each option fills one settings field, and
every settings field has an option or a stated reason not to."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tornado_socketio_jwt import AuthSettings
from tornado_socketio_jwt.cli import build_settings, make_parser, server_options
from tornado_socketio_jwt.cli.options import dest
from tornado_socketio_jwt.cli.table import (
    GROUPS,
    NOT_ON_CLI,
    OPTIONS,
    Option,
    ServerOptions,
)

SECRET = "s" * 40
# The standalone server's own values where the library's default differs.
CLI_DEFAULTS_DIFFER = {
    "auth.transport.ping_interval": 25.0,  # the library's None keeps the server's
    "auth.transport.ping_timeout": 20.0,
    "auth.events": ("whoami", "message"),  # the page's chat
    "auth.recovery.enabled": True,  # off for embedders (an extra argument)
}


def field_paths(cls: type, prefix: str) -> list[str]:
    """Every field of ``cls`` as a dotted path, the groups' fields included."""
    paths = []
    for item in dataclasses.fields(cls):
        default = (
            item.default_factory()  # type: ignore[misc]
            if item.default_factory is not dataclasses.MISSING
            else item.default
        )
        if dataclasses.is_dataclass(default):
            paths += field_paths(type(default), f"{prefix}.{item.name}")
        else:
            paths.append(f"{prefix}.{item.name}")
    return paths


def value_at(settings: Any, path: str) -> Any:
    for part in path.split(".")[1:]:
        settings = getattr(settings, part)
    return settings


SETTINGS_FIELDS = field_paths(AuthSettings, "auth") + field_paths(
    ServerOptions, "server"
)


def parse(tmp_path: Path, *args: str) -> Any:
    return make_parser(environ={"JWT_SECRET": SECRET}).parse_args(
        ["--data-dir", str(tmp_path), *args]
    )


@pytest.mark.parametrize("field", SETTINGS_FIELDS)
def test_every_settings_field_has_an_option_or_a_reason(field: str) -> None:
    on_cli = [option.flag for option in OPTIONS if option.field == field]
    assert len(on_cli) + (field in NOT_ON_CLI) == 1, (field, on_cli)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.flag)
def test_every_option_fills_a_settings_field_in_a_group(option: Option) -> None:
    assert option.field in SETTINGS_FIELDS
    assert option.group in GROUPS
    assert option.flag.startswith("--") and option.env.isupper()


def test_no_two_options_share_a_flag_a_variable_or_a_field() -> None:
    for column in ("flag", "env", "field"):
        counts = Counter(getattr(option, column) for option in OPTIONS)
        assert [name for name, n in counts.items() if n > 1] == [], column


def test_the_reasons_name_real_fields() -> None:
    assert set(NOT_ON_CLI) <= set(SETTINGS_FIELDS)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.flag)
def test_each_default_is_a_valid_value(option: Option) -> None:
    option.kind(option.default)


def test_with_no_option_the_settings_are_the_librarys_defaults(tmp_path: Path) -> None:
    settings, keys = build_settings(parse(tmp_path), environ={"JWT_SECRET": SECRET})
    library = AuthSettings(secret=SECRET)
    assert keys is None
    for field in field_paths(AuthSettings, "auth"):
        expected = CLI_DEFAULTS_DIFFER.get(field, value_at(library, field))
        assert value_at(settings, field) == expected, field
    assert server_options(parse(tmp_path)) == ServerOptions(data_dir=str(tmp_path))


NUMERIC = [o for o in OPTIONS if re.fullmatch(r"\d+(\.\d+)?", o.default)]


@pytest.mark.parametrize("option", NUMERIC, ids=lambda option: option.flag)
def test_a_number_given_reaches_its_field(tmp_path: Path, option: Option) -> None:
    text = str(int(float(option.default)) + 3)
    options = parse(tmp_path, option.flag, text)
    root = option.field.split(".")[0]
    if root == "auth":
        settings: Any = build_settings(options, environ={"JWT_SECRET": SECRET})[0]
    else:
        settings = server_options(options)
    assert value_at(settings, option.field) == option.kind(text)
    assert getattr(options, dest(option)) == option.kind(text)


@pytest.mark.parametrize(
    ("args", "field", "expected"),
    [
        (("--cors-origins", "https://A.example/"), "auth.cors_allowed_origins",
         ("https://a.example",)),
        (("--token-sources", "header"), "auth.token_sources", ("header",)),
        (("--metrics", "on"), "auth.metrics_allowed", ("127.0.0.0/8", "::1/128")),
        (("--metrics", "10.0.0.0/8"), "auth.metrics_allowed", ("10.0.0.0/8",)),
        (("--websocket-compression", "on"), "auth.transport.websocket_compression",
         True),
        (("--max-connections-per-user", "0"), "auth.limits.max_connections_per_user",
         None),
        (("--auth-flow", "event"), "auth.auth_flow", "event"),
        (("--issuer", ""), "auth.issuer", None),
        (("--static-dir", "/srv/page"), "auth.static_dir", "/srv/page"),
    ],
)  # fmt: skip
def test_a_value_given_reaches_its_field(
    tmp_path: Path, args: tuple[str, ...], field: str, expected: Any
) -> None:
    settings, _ = build_settings(parse(tmp_path, *args), environ={"JWT_SECRET": SECRET})
    assert value_at(settings, field) == expected
