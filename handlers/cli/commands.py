"""The commands that prepare a ``--data-dir``: users, and key pairs.

They run before any server, in the command's own process: hashing and SQLite
block here on purpose (there is no IOLoop to keep free), and the one
asynchronous call, the revocation store's, runs on its own short loop.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time

from ..config import AuthSettings
from ..keys.pem import write_key_pair
from ..keys.ring import KeyRing
from ..storage.password_policy import WeakPasswordError, check_password
from ..storage.revocations import SQLiteRevocationStore
from ..storage.users import User, UserExistsError
from .errors import CommandError
from .serve import open_users
from .settings import REVOCATIONS_FILE, data_dir

__all__ = ["adduser", "passwd", "deluser", "list_users", "genkey", "read_password"]

LOGGED_OUT = (
    "restart the server to refuse the tokens of sessions begun before now, "
    "refreshed ones included (it reads revocations at start-up; with "
    "--redis-url they live in Redis instead)"
)


def read_password(username: str = "") -> str:
    """From standard input when it is not a terminal, else prompted twice;
    checked against the policy (:mod:`..storage.password_policy`).

    :raises CommandError: the two typed passwords differ, or the policy refuses.
    """
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            raise CommandError("passwords do not match")
    try:
        check_password(username, password)
    except WeakPasswordError as exc:
        raise CommandError(f"{exc}; nothing was changed") from exc
    return password


def adduser(options: argparse.Namespace) -> None:
    """Add ``options.name`` with a hashed password and the profile claims.

    :raises CommandError: the name exists already, or the password is refused.
    """
    password = read_password(options.name)
    users = open_users(options)
    try:
        user = users.add_user_sync(
            options.name,
            password,
            email=options.email,
            first_name=options.first_name,
            last_name=options.last_name,
        )
    except UserExistsError as exc:
        raise CommandError(
            f"{exc}; `passwd {options.name}` changes its password"
        ) from exc
    finally:
        users.close()
    print(f"added user {user.username!r} (id {user.id})")


def passwd(options: argparse.Namespace) -> None:
    """Set ``options.name``'s password, and revoke the tokens issued before.

    :raises CommandError: no such user, or the password is refused.
    """
    users = open_users(options)
    try:
        # The store's own lookup: the same name matching as the update (SQLite
        # folds the case of ASCII letters only).
        if users.find_sync(options.name) is None:
            raise _no_such_user(options.name)
        user = users.set_password_sync(options.name, read_password(options.name))
        if user is None:  # deleted meanwhile
            raise _no_such_user(options.name)
    finally:
        users.close()
    _revoke_tokens(options, user)
    print(f"password of {user.username!r} changed; {LOGGED_OUT}")


def deluser(options: argparse.Namespace) -> None:
    """Delete ``options.name`` and revoke its tokens.

    :raises CommandError: no such user.
    """
    users = open_users(options)
    try:
        user = users.delete_user_sync(options.name)
    finally:
        users.close()
    if user is None:
        raise _no_such_user(options.name)
    _revoke_tokens(options, user)
    print(f"deleted user {user.username!r} (id {user.id}); {LOGGED_OUT}")


def list_users(options: argparse.Namespace) -> None:
    """Print one line per user: id, name, e-mail, full name."""
    users = open_users(options)
    try:
        everyone = users.users_sync()
    finally:
        users.close()
    for user in everyone:
        name = f"{user.first_name} {user.last_name}".strip()
        print(f"{user.id}\t{user.username}\t{user.email}\t{name}".rstrip())
    if not everyone:
        print("no users (serve creates 'demo' on an empty store)", file=sys.stderr)


def genkey(options: argparse.Namespace) -> None:
    """Write a key pair (private key mode 0600) and print its ``kid``.

    :raises CommandError: when a key file exists already (never overwritten).
    """
    try:
        private, public = write_key_pair(data_dir(options), options.algorithm)
    except FileExistsError as exc:
        raise CommandError(str(exc)) from exc
    kid = KeyRing.from_pem_files(private_key=private, public_key=public).kids[0]
    print(f"wrote {private} (mode 0600) and {public}; kid {kid}")
    print(f"serve with: --private-key {private} --public-key {public}")


def _no_such_user(name: str) -> CommandError:
    return CommandError(f"no user {name!r}; `users` lists them, `adduser` adds one")


def _revoke_tokens(options: argparse.Namespace, user: User) -> None:
    """A per-user cut-off in ``--data-dir``'s revocation store, as a logout of
    all tokens writes it."""
    store = SQLiteRevocationStore(str(data_dir(options) / REVOCATIONS_FILE))
    now = time.time()
    expires = now + AuthSettings.max_session_age
    # A loop of its own, never made current: an embedding caller's stays.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(store.add_cutoff(str(user.id), now, expires))
    finally:
        loop.close()
        store.close()
