"""A griffe extension: Sphinx roles and directives in docstrings, as Markdown.

The docstrings use Sphinx field style, which mkdocstrings reads; roles
(``:class:`X```) it leaves as written, and ``.. warning::`` too. Roles become
code, directives Material admonitions.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|attr|data|exc|mod|obj):`~?([^`]+)`")
DIRECTIVE = re.compile(r"^\.\. (warning|note)::\n((?:[ \t]+\S.*(?:\n|$))+)", re.M)


class SphinxRoles(griffe.Extension):
    """Rewrite ``:role:`name``` before the docstring is rendered."""

    def on_object(self, *, obj: Any, **_: Any) -> None:
        if obj.docstring is not None:
            text = ROLE.sub(_code, obj.docstring.value)
            obj.docstring.value = DIRECTIVE.sub(_admonition, text)


def _code(match: re.Match[str]) -> str:
    return f"`{match[1]}`"


def _admonition(match: re.Match[str]) -> str:
    body = "\n".join("    " + line.strip() for line in match[2].splitlines())
    return f"!!! {match[1]}\n{body}\n"
