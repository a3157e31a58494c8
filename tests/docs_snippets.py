"""The code blocks of the documentation, and how each kind is checked.

Every fenced block of README.md and docs/ has a language, and each language has
a check here (tests/test_docs_snippets.py): Python blocks run, JavaScript parses
as a module, shell commands are checked against the command line, the Makefile
and setup.cfg. A language with no check fails the tests: add one.
"""

from __future__ import annotations

import configparser
import re
import shlex
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
# Not code: program output and diagrams.
PROSE_LANGUAGES = {"text"}
CHECKED_LANGUAGES = {"python", "js", "sh", "nginx"}


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language and its text."""

    path: Path
    line: int
    language: str
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} ({self.language})"


def pages() -> list[Path]:
    """README.md and every Markdown page of the site."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path``, de-indented (a block may sit in a list)."""
    found: list[Block] = []
    current: list[str] | None = None
    indent, start, language = "", 0, ""
    for number, line in enumerate(path.read_text().split("\n"), 1):
        match = FENCE.match(line)
        if current is None and match:
            current, indent, start, language = [], match[1], number, match[2]
        elif current is not None and line.strip() == "```":
            found.append(Block(path, start, language, "\n".join(current) + "\n"))
            current = None
        elif current is not None:
            current.append(line[len(indent) :] if line.startswith(indent) else line)
    return found


def all_blocks() -> list[Block]:
    return [block for path in pages() for block in blocks(path)]


def run_python(path: Path, name: str) -> dict[str, Any]:
    """The page's Python blocks run in order as one module named ``name``."""
    module = types.ModuleType(name)
    sys.modules[name] = module  # dataclasses look their module up
    for block in blocks(path):
        if block.language == "python":
            exec(compile(block.text, f"{path}:{block.line}", "exec"), module.__dict__)
    return module.__dict__


# ---- shell commands ---------------------------------------------------------------


def commands(block: Block) -> list[list[str]]:
    """Each command of a shell block as words: continuations joined, comments
    dropped, each side of a pipe a command of its own."""
    text = block.text.replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        while "|" in words:
            cut = words.index("|")
            found.append(words[:cut])
            words = words[cut + 1 :]
        if words:
            found.append(words)
    return found


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.M))


def extras() -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return set(config["options.extras_require"])
