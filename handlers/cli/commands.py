"""``adduser`` and ``genkey``: the commands that prepare a ``--data-dir``."""

from __future__ import annotations

import argparse
import getpass
import sys

from ..keys.pem import write_key_pair
from ..keys.ring import KeyRing
from ..storage.users import UserExistsError
from .serve import open_users
from .settings import CommandError, data_dir

__all__ = ["adduser", "genkey", "read_password"]


def read_password() -> str:
    """From standard input when it is not a terminal, else prompted twice.

    :raises CommandError: when the two typed passwords differ, or it is empty.
    """
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            raise CommandError("passwords do not match")
    if not password:
        raise CommandError("the password must not be empty")
    return password


def adduser(options: argparse.Namespace) -> None:
    """Add ``options.name`` with a hashed password and the profile claims.

    :raises CommandError: when the name exists already.
    """
    password = read_password()
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
        raise CommandError(str(exc)) from exc
    finally:
        users.close()
    print(f"added user {user.username!r} (id {user.id})")


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
