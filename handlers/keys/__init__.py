"""Key sources: a shared secret, PEM key rings (rotation), a remote JWKS."""

from .base import (
    KeySource,
    SharedSecretKey,
    can_sign,
    prepare_keys,
    public_jwks,
    select_key,
    signing_algorithm,
)
from .remote import JWKSKeySource
from .ring import KeyRing

__all__ = [
    "KeySource",
    "SharedSecretKey",
    "KeyRing",
    "JWKSKeySource",
    "can_sign",
    "prepare_keys",
    "public_jwks",
    "select_key",
    "signing_algorithm",
]
