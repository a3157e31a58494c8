"""tornado-socketio-jwt: JWT-authenticated Socket.IO for Tornado.

Installed as ``tornado_socketio_jwt``; the public API is ``__all__``.

The layers, each importing only those below it (``make lint`` checks this
with import-linter; see ``[importlinter]`` in setup.cfg)::

    app                 attach_jwt_auth: check, build, install the gate, URL specs
    sockets/ | web/     the Socket.IO side (gate, handshake, event flow, refresh,
    | scale/            sessions, authorization) | the HTTP side (login, logout,
                        refresh, JWKS, health, the page, the access log) | several
                        processes over Redis (shared denylist, login limits,
                        trusted proxies); none imports another
    authenticator       verify, live sockets, revoke tokens and cut the sockets
                        that use them: one object per server
    storage/            SQLite users and revocations, off the IOLoop
    tokens, grants, hooks, live, deadlines, revocation, limiter, task_set
                        the token rules, scopes and roles, the app's callables,
                        the live index, the expiry heap, the in-memory denylist,
                        attempts per key, background tasks
    credentials | keys/ where tokens (and the client's address) are found | key
                        sources: shared secret, PEM key ring, remote JWKS
    config/, errors     AuthSettings and its groups (SocketLimits, Transport,
                        StateRecovery); the error tree

Only ``sockets/`` (and ``app``) import python-socketio, and only
``sockets/gate.py`` touches its internals.
"""

from ._version import __version__
from .app import attach_jwt_auth
from .authenticator import Authenticator
from .config import (
    AuthSettings,
    NamespacePolicy,
    SettingError,
    SocketLimits,
    StateRecovery,
    Transport,
)
from .errors import (
    AlreadyAuthenticatedError,
    AuthError,
    BadRequestError,
    CredentialsBadFormatError,
    CredentialsRequiredError,
    ForbiddenError,
    InvalidCredentialsError,
    MissingAuthorizationHeaderError,
    SessionExpiredError,
    TokenExpiredError,
    TokenInvalidError,
    TokenMismatchError,
    TokenRevokedError,
    TooManyAttemptsError,
    TooManyConnectionsError,
    UnauthorizedError,
)
from .fast_json import socketio_json
from .grants import Requirement
from .keys import (
    JWKSKeySource,
    KeyRing,
    KeySource,
    SecretCallback,
    SharedSecretKey,
)
from .revocation import RevocationList
from .sockets.authorization import authorize_event, authorize_namespace, requires
from .sockets.extension import authenticator_for
from .sockets.namespace import AuthNamespace
from .sockets.sessions import AUTHENTICATED_ROOM, current_user, user_room
from .storage.revocations import RevocationStore, SQLiteRevocationStore
from .storage.users import SQLiteUserStore, User, UserStore
from .tokens import issue_token, verify_token
from .web.access_log import redacting_log_function

__all__ = [
    "__version__",
    "AuthSettings",
    "SocketLimits",
    "Transport",
    "NamespacePolicy",
    "StateRecovery",
    "SettingError",
    "attach_jwt_auth",
    "socketio_json",
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
    "SecretCallback",
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
    "MissingAuthorizationHeaderError",
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
    "TooManyConnectionsError",
]
