"""tornado-socketio-jwt: JWT-authenticated Socket.IO for Tornado.

Installed as ``tornado_socketio_jwt``; the public API is ``__all__``.
"""

from .app import attach_jwt_auth
from .authenticator import Authenticator
from .authorization import authorize_event, authorize_namespace, requires
from .config import AuthSettings
from .errors import (
    AuthError,
    BadRequestError,
    CredentialsBadFormatError,
    CredentialsRequiredError,
    ForbiddenError,
    InvalidCredentialsError,
    TokenExpiredError,
    TokenInvalidError,
    TokenRevokedError,
    TooManyAttemptsError,
    UnauthorizedError,
)
from .grants import Requirement
from .jwks import JWKSKeySource
from .keyring import KeyRing
from .keys import KeySource, SharedSecretKey
from .logs import redacting_log_function
from .revocation import RevocationList
from .sessions import current_user, user_room
from .socket_auth import AuthNamespace, authenticator_for
from .tokens import issue_token, verify_token
from .users import SQLiteUserStore, User, UserStore

__all__ = [
    "AuthSettings",
    "attach_jwt_auth",
    "current_user",
    "user_room",
    "AuthNamespace",
    "Authenticator",
    "authenticator_for",
    "UserStore",
    "SQLiteUserStore",
    "User",
    "KeySource",
    "SharedSecretKey",
    "KeyRing",
    "JWKSKeySource",
    "Requirement",
    "authorize_namespace",
    "authorize_event",
    "requires",
    "RevocationList",
    "issue_token",
    "verify_token",
    "redacting_log_function",
    "AuthError",
    "UnauthorizedError",
    "CredentialsRequiredError",
    "CredentialsBadFormatError",
    "TokenInvalidError",
    "TokenExpiredError",
    "TokenRevokedError",
    "ForbiddenError",
    "InvalidCredentialsError",
    "BadRequestError",
    "TooManyAttemptsError",
]
