"""``SettingError``: a bad value, naming the setting at fault."""

from __future__ import annotations

__all__ = ["SettingError"]


class SettingError(ValueError):
    """A setting's value is refused; ``field`` names it (``limits.x`` in a group).

    ``str()`` reads ``"<field> <problem>"``, e.g. ``"token_ttl must be positive"``.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem
