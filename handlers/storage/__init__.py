"""Storage: SQLite users and revocations, written off the IOLoop."""
