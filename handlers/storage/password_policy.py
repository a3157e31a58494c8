"""The password policy of the command line's ``adduser`` and ``passwd``.

Following NIST SP 800-63B (5.1.1.2, memorized secrets): at least
:data:`MIN_LENGTH` (8) characters, any characters (spaces and emoji
included), no composition rules (no "one digit, one symbol"), and a refusal
of an obvious guess: the user name itself, in any case. Up to
:data:`MAX_LENGTH` (1024) characters, well past the 64 NIST asks to allow;
argon2id hashes any length in the same time, and the bound only keeps a
pasted file out. A list of breached passwords, which NIST also suggests, is
not shipped: it would outweigh this package.

The library's ``SQLiteUserStore`` applies no policy: an application that
manages its own users has its own.
"""

from __future__ import annotations

__all__ = ["MIN_LENGTH", "MAX_LENGTH", "WeakPasswordError", "check_password"]

MIN_LENGTH = 8
MAX_LENGTH = 1024


class WeakPasswordError(ValueError):
    """The policy refuses the password; the message names the rule, not the password."""


def check_password(username: str, password: str) -> None:
    """:raises WeakPasswordError: ``password`` breaks the policy."""
    length = len(password)
    if length < MIN_LENGTH:
        raise WeakPasswordError(
            f"the password is {length} characters; it must be at least {MIN_LENGTH}"
        )
    if length > MAX_LENGTH:
        raise WeakPasswordError(
            f"the password is {length} characters; it must be at most {MAX_LENGTH}"
        )
    if password.strip().casefold() == username.strip().casefold():
        raise WeakPasswordError("the password must not be the user name")
