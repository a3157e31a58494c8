"""tornado-socketio-jwt: JWT-authenticated Socket.IO for Tornado.

Installed as ``tornado_socketio_jwt``; the public API is ``__all__``.
"""

from .app import attach_jwt_auth
from .authenticator import Authenticator
from .sockets.authorization import authorize_event, authorize_namespace, requires
from .config import AuthSettings
from .errors import (
    AlreadyAuthenticatedError,
    AuthError,
    BadRequestError,
    CredentialsBadFormatError,
    CredentialsRequiredError,
    ForbiddenError,
    InvalidCredentialsError,
    SessionExpiredError,
    TokenExpiredError,
    TokenInvalidError,
    TokenMismatchError,
    TokenRevokedError,
    TooManyAttemptsError,
    UnauthorizedError,
)
from .grants import Requirement
from .keys import JWKSKeySource, KeyRing, KeySource, SharedSecretKey
from .web.access_log import redacting_log_function
from .revocation import RevocationList
from .storage.revocations import RevocationStore, SQLiteRevocationStore
from .sockets.sessions import AUTHENTICATED_ROOM, current_user, user_room
from .sockets.namespace import AuthNamespace
from .sockets.extension import authenticator_for
from .tokens import issue_token, verify_token
from .storage.users import SQLiteUserStore, User, UserStore

__all__ = [
    "AuthSettings",
    "attach_jwt_auth",
    "current_user",
    "user_room",
    "AUTHENTICATED_ROOM",
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
    "RevocationStore",
    "SQLiteRevocationStore",
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
    "TokenMismatchError",
    "AlreadyAuthenticatedError",
    "SessionExpiredError",
    "ForbiddenError",
    "InvalidCredentialsError",
    "BadRequestError",
    "TooManyAttemptsError",
]
