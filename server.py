"""Command line of tornado-socketio-jwt: ``python server.py [options]``.

Every option also reads an environment variable (see ``--help``). The JWT
secret comes from ``JWT_SECRET`` or a generated file under ``--data-dir``;
``--private-key`` switches to RS256/ES256 and ``--jwks-url`` to verify-only.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys
from pathlib import Path
from typing import Any

import socketio
import tornado.log
import tornado.web
from tornado.options import OptionParser

from tornado_socketio_jwt import (
    AuthError,
    AuthSettings,
    JWKSKeySource,
    KeyRing,
    KeySource,
    SQLiteUserStore,
    attach_jwt_auth,
    authenticator_for,
    redacting_log_function,
)
from tornado_socketio_jwt.config import DEFAULT_ISSUER
from tornado_socketio_jwt.keys import can_sign
from tornado_socketio_jwt.keys.pem import write_key_pair
from tornado_socketio_jwt.keys.secret_file import read_or_create_secret
from tornado_socketio_jwt.keys.selection import key_source_for
from tornado_socketio_jwt.storage.revocations import SQLiteRevocationStore
from tornado_socketio_jwt.storage.users import UserExistsError, create_demo_user

SECRET_FILE = "jwt-secret"
USERS_FILE = "users.sqlite3"
REVOCATIONS_FILE = "revocations.sqlite3"
DEMO_USER = "demo"
VERIFY_ONLY_CLAIMS = ("exp", "iat", "sub")  # Auth0 access tokens carry no jti
KEY_OPTIONS = (  # name, environment variable, default, help; lists are comma-separated
    (
        "private_key",
        "JWT_PRIVATE_KEY",
        "",
        "PEM private key that signs RS256/ES256 tokens",
    ),
    (
        "public_key",
        "JWT_PUBLIC_KEY",
        "",
        "its PEM public key (checked); alone: verify-only",
    ),
    (
        "verify_keys",
        "JWT_VERIFY_KEYS",
        "",
        "PEM public keys, or directories of *.pem, "
        "that also verify: key rotation (kid = RFC 7638 thumbprint)",
    ),
    (
        "algorithms",
        "JWT_ALGORITHMS",
        "",
        "allowed algorithms; default HS256, the key "
        "type's (RS256/ES256), or RS256 with --jwks-url",
    ),
    (
        "jwks_url",
        "JWKS_URL",
        "",
        "verify-only mode: the external issuer's JWKS URL "
        "(needs --issuer and --audience; no /login)",
    ),
    ("audience", "JWT_AUDIENCE", "", "aud claim required (and issued)"),
    (
        "redis_url",
        "REDIS_URL",
        "",
        "Redis shared by several server processes: rooms, revocations, login "
        "limits (README: Scaling out); empty: this process alone",
    ),
    (
        "required_claims",
        "JWT_REQUIRED_CLAIMS",
        "",
        "claims a token must carry; default "
        "exp,iat,sub,jti (exp,iat,sub with --jwks-url)",
    ),
    ("leeway", "JWT_LEEWAY", 0.0, "clock skew tolerated on exp/iat/nbf, seconds"),
    (
        "jwks_refresh_interval",
        "JWKS_REFRESH_INTERVAL",
        30.0,
        "least seconds between two JWKS fetches (unknown kids wait this long)",
    ),
)


def env(name: str, default: Any) -> Any:
    """The environment's value for an option, converted like its default."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return type(default)(value)
    except ValueError:
        sys.exit(
            f"configuration error: {name}={value!r} "
            f"is not a valid {type(default).__name__}"
        )


def make_parser() -> OptionParser:
    """This program's own options (never the global ``tornado.options``)."""
    parser = OptionParser()
    define = parser.define
    define("host", env("HOST", "127.0.0.1"), str, "address to listen on [env HOST]")
    define("port", env("PORT", 9000), int, "port to listen on [env PORT]")
    define(
        "data_dir",
        env("DATA_DIR", "./data"),
        str,
        "directory of the user store, the revocation list, and the secret "
        "generated when env JWT_SECRET (32 bytes or more) is not set [env DATA_DIR]",
    )
    define(
        "token_ttl",
        env("TOKEN_TTL", 5 * 3600),
        int,
        "lifetime of issued tokens, seconds [env TOKEN_TTL]",
    )
    define(
        "issuer",
        env("JWT_ISSUER", "tornado-socketio-jwt"),
        str,
        "iss claim issued and required [env JWT_ISSUER]",
    )
    define(
        "cors_origins",
        env("CORS_ALLOWED_ORIGINS", ""),
        str,
        "comma-separated origins allowed to open sockets; empty means this "
        "server's own origin only [env CORS_ALLOWED_ORIGINS]",
    )
    define(
        "auth_flow",
        env("AUTH_FLOW", "handshake"),
        str,
        "handshake (token in the connect request) or event (the client emits "
        "authenticate within --auth-timeout seconds) [env AUTH_FLOW]",
    )
    define(
        "auth_timeout",
        env("AUTH_TIMEOUT", 5.0),
        float,
        "seconds a socket has to authenticate in the event flow [env AUTH_TIMEOUT]",
    )
    define(
        "static_dir",
        env("STATIC_DIR", ""),
        str,
        "directory of the browser client; empty means the bundled one [env STATIC_DIR]",
    )
    for name, var, default, text in KEY_OPTIONS:  # lists are comma-separated
        define(name, env(var, default), type(default), f"{text} [env {var}]")
    tornado.log.define_logging_options(parser)
    return parser


def join_option_values(argv: list[str], parser: OptionParser) -> list[str]:
    """Accept ``--port 9000`` as well as Tornado's own ``--port=9000``."""
    valued = {
        k
        for k, v in parser.as_dict().items()
        if v is not None and not isinstance(v, bool)
    }
    out, i = list(argv[:1]), 1
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--") or arg == "--":
            return out + argv[i:]  # a command such as adduser: the rest is its own
        name = arg[2:].replace("-", "_")
        if "=" not in arg and name in valued and i + 1 < len(argv):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def load_secret(data_dir: Path) -> str:
    """``JWT_SECRET``, else the secret file (created with mode 0600)."""
    given = os.environ.get("JWT_SECRET")
    if given:
        return given
    try:
        return read_or_create_secret(data_dir / SECRET_FILE)
    except PermissionError as exc:
        sys.exit(str(exc))


def split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def build_settings(options: OptionParser) -> tuple[AuthSettings, KeySource | None]:
    data_dir = Path(options.data_dir)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    origins = split(options.cors_origins)
    if options.jwks_url and (
        options.issuer in ("", DEFAULT_ISSUER) or not options.audience
    ):
        sys.exit("--jwks-url needs the issuer's --issuer and your API's --audience")
    try:
        algorithms, keys = key_source_for(
            algorithms=split(options.algorithms),
            private_key=options.private_key or None,
            public_key=options.public_key or None,
            verify_keys=split(options.verify_keys),
            jwks_url=options.jwks_url or None,
            jwks_refresh_interval=options.jwks_refresh_interval,
        )
        symmetric = keys is None and all(a.startswith("HS") for a in algorithms)
        claims = split(options.required_claims) or (
            VERIFY_ONLY_CLAIMS if options.jwks_url else AuthSettings.required_claims
        )
        settings = AuthSettings(
            algorithms=algorithms,
            secret=load_secret(data_dir) if symmetric else None,
            issuer=options.issuer or None,
            audience=options.audience or None,
            leeway=options.leeway,
            required_claims=claims,
            token_ttl=options.token_ttl,
            cors_allowed_origins=origins or None,
            static_dir=options.static_dir or None,
            auth_flow=options.auth_flow,
            auth_timeout=options.auth_timeout,
        )
    except (TypeError, ValueError, OSError) as exc:
        sys.exit(f"configuration error: {exc}")
    return settings, keys


def open_users(options: OptionParser) -> SQLiteUserStore:
    Path(options.data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    return SQLiteUserStore(str(Path(options.data_dir) / USERS_FILE))


def ensure_demo_user(users: SQLiteUserStore) -> None:
    """On an empty store, create ``demo`` and print its password once."""
    password = create_demo_user(users, DEMO_USER)
    if password is not None:
        print(
            f"Created user '{DEMO_USER}' with password: {password}  (shown once)",
            flush=True,
        )


def make_app(
    settings: AuthSettings,
    users: SQLiteUserStore | None,
    keys: KeySource | None = None,
    revocations: SQLiteRevocationStore | None = None,
    redis_url: str = "",
) -> tuple[tornado.web.Application, Any]:
    """The standalone app: exactly the embedded configuration."""
    origins = (
        list(settings.cors_allowed_origins) if settings.cors_allowed_origins else None
    )
    manager = socketio.AsyncRedisManager(redis_url) if redis_url else None
    sio = socketio.AsyncServer(
        async_mode="tornado", cors_allowed_origins=origins, client_manager=manager
    )
    specs = attach_jwt_auth(
        sio,
        settings,
        users=users,
        keys=keys,
        events=("whoami", "message"),
        revocation_store=None if redis_url else revocations,
    )
    return tornado.web.Application(specs, log_function=redacting_log_function()), sio


async def serve(options: OptionParser) -> None:
    settings, keys = build_settings(options)
    users = None
    if keys is None or can_sign(keys):
        users = open_users(options)
        ensure_demo_user(users)
    if isinstance(keys, JWKSKeySource):
        await keys.refresh()  # warm the cache; on failure, retried on use
    revocations = SQLiteRevocationStore(str(Path(options.data_dir) / REVOCATIONS_FILE))
    app, sio = make_app(settings, users, keys, revocations, options.redis_url)
    try:  # with --redis-url: load the shared denylist before serving
        await authenticator_for(sio).start()
    except AuthError as exc:
        sys.exit(f"cannot start: {exc.message}")
    server = app.listen(options.port, address=options.host, xheaders=False)
    # Before the line that tells a supervisor (or a test) the server is up.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening on http://{options.host}:{options.port}", flush=True)
    if settings.auth_flow == "event":
        print("  (event flow: the bundled page is /?auth_flow=event)", flush=True)
    await stop.wait()
    server.stop()
    await sio.shutdown()
    await authenticator_for(sio).close()
    if users is not None:
        users.close()
    revocations.close()


def read_password() -> str:
    """From standard input when piped, else prompted twice."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        sys.exit("passwords do not match")
    return first


def adduser(options: OptionParser, args: list[str]) -> None:
    cli = argparse.ArgumentParser(prog="server.py adduser")
    cli.add_argument("name")
    cli.add_argument("--email", default="")
    cli.add_argument("--first-name", default="")
    cli.add_argument("--last-name", default="")
    given = cli.parse_args(args)
    password = read_password()
    if not password:
        sys.exit("the password must not be empty")
    users = open_users(options)
    try:
        user = users.add_user_sync(
            given.name,
            password,
            email=given.email,
            first_name=given.first_name,
            last_name=given.last_name,
        )
    except UserExistsError as exc:
        sys.exit(str(exc))
    finally:
        users.close()
    print(f"added user {user.username!r} (id {user.id})")


def genkey(options: OptionParser, args: list[str]) -> None:
    cli = argparse.ArgumentParser(prog="server.py genkey")
    cli.add_argument("--algorithm", choices=("RS256", "ES256"), default="RS256")
    given = cli.parse_args(args)
    try:
        private, public = write_key_pair(options.data_dir, given.algorithm)
    except FileExistsError as exc:
        sys.exit(str(exc))
    kid = KeyRing.from_pem_files(private_key=private, public_key=public).kids[0]
    print(f"wrote {private} (mode 0600) and {public}; kid {kid}")
    print(f"serve with: --private-key {private} --public-key {public}")


def main(argv: list[str] | None = None) -> None:
    options = make_parser()
    rest = options.parse_command_line(
        join_option_values(argv if argv is not None else sys.argv, options)
    )
    if rest and rest[0] == "adduser":
        adduser(options, rest[1:])
    elif rest and rest[0] == "genkey":
        genkey(options, rest[1:])
    elif rest:
        sys.exit(f"unknown command: {rest[0]} (try --help)")
    else:
        asyncio.run(serve(options))


if __name__ == "__main__":
    main()
