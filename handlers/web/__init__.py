"""The HTTP side: login, logout, refresh, JWKS, health, the page, the access log."""
