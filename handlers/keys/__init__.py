"""Key sources: a shared secret, PEM key rings (rotation), a remote JWKS, a
secret looked up per token."""

from .base import (
    KeySource,
    SharedSecretKey,
    can_sign,
    prepare_keys,
    public_jwks,
    select_key,
    signing_algorithm,
)
from .callback import SecretCallback
from .remote import JWKSKeySource
from .ring import KeyRing

__all__ = [
    "KeySource",
    "SharedSecretKey",
    "KeyRing",
    "JWKSKeySource",
    "SecretCallback",
    "can_sign",
    "prepare_keys",
    "public_jwks",
    "select_key",
    "signing_algorithm",
]
