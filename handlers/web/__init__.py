"""The HTTP side: login, logout, token refresh, JWKS, health, the page, the access log."""
