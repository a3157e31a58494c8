"""Every code block of README.md and docs/ is checked by what it is.

Python blocks run (each page's in order, as one module); JavaScript blocks
parse as ES modules with Node; shell commands name a real command-line
invocation, Makefile target, extra or environment variable; an nginx block
includes the deployed file. The pages whose code needs a server are run
against one in test_docs_pages.py, test_tutorial.py and
test_embedding_guide.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.docs_snippets import (
    CHECKED_LANGUAGES,
    PROSE_LANGUAGES,
    ROOT,
    Block,
    all_blocks,
    commands,
    extras,
    makefile_targets,
    run_python,
)
from tornado_socketio_jwt.cli.parser import make_parser
from tornado_socketio_jwt.cli.table import OPTIONS

BLOCKS = all_blocks()
NODE = shutil.which("node")
CLI = ("tornado-socketio-jwt",)
ENVIRONMENT = {option.env for option in OPTIONS} | {"JWT_SECRET"}
SERVER_PATHS = {"/login", "/logout", "/token/refresh", "/healthz", "/metrics"}


def of(language: str) -> list[Block]:
    return [block for block in BLOCKS if block.language == language]


def test_the_pages_have_code_blocks_to_check() -> None:
    assert len(of("python")) >= 20 and of("js") and of("sh")


def test_every_block_names_a_language_that_has_a_check() -> None:
    languages = CHECKED_LANGUAGES | PROSE_LANGUAGES
    assert [str(b) for b in BLOCKS if b.language not in languages] == []


@pytest.mark.parametrize(
    "path",
    sorted({b.path for b in of("python")}),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_the_python_blocks_of_each_page_run_as_one_module(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "docs_" + re.sub(r"\W", "_", str(path.relative_to(ROOT)))
    monkeypatch.delitem(__import__("sys").modules, name, raising=False)
    namespace = run_python(path, name)
    defined = [v for k, v in namespace.items() if callable(v) and not k.startswith("_")]
    assert defined, f"{path} defines nothing to call"


@pytest.mark.skipif(
    NODE is None and os.environ.get("CI") != "true", reason="needs node"
)
@pytest.mark.parametrize("block", of("js"), ids=str)
def test_each_javascript_block_parses_as_a_module(block: Block, tmp_path: Path) -> None:
    assert NODE is not None
    script = tmp_path / "block.mjs"
    script.write_text(block.text)
    checked = subprocess.run(
        [NODE, "--check", str(script)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr


def check_command(words: list[str]) -> None:
    """One shell command: it must be one the project can stand behind."""
    while words and re.match(r"^[A-Z_]+=", words[0]):
        variable = words.pop(0).split("=", 1)[0]
        assert variable in ENVIRONMENT, f"unknown environment variable {variable}"
    program, *args = words
    if program == "export":
        [assignment] = args
        assert assignment.split("=", 1)[0] in ENVIRONMENT, assignment
    elif program in CLI or (program == "python" and args[:1] == ["server.py"]):
        arguments = args[1:] if program == "python" else args
        try:
            make_parser(environ={}).parse_args(arguments)
        except SystemExit as exit:  # --help and --version exit with 0
            if exit.code != 0:
                raise AssertionError(f"the command line refuses {arguments}") from exit
    elif program == "make":
        assert args[0] in makefile_targets(), args
    elif program == "pip":
        assert args[0] in ("install", "wheel"), args
        for spec in args[1:]:
            named = set(re.findall(r"\[([a-z,-]+)\]", spec))
            assert {e for n in named for e in n.split(",")} <= extras(), spec
    elif program == "curl":
        [url] = [a for a in args if a.startswith("http")]
        assert re.sub(r"^https?://[^/]+", "", url) in SERVER_PATHS, url
    elif program in ("printf", "python3"):
        if program == "python3":  # e.g. the secret generator: it runs
            subprocess.run(
                [program, *args], check=True, timeout=30, capture_output=True
            )
    else:
        raise AssertionError(f"no check for the command {program!r}: add one")


@pytest.mark.parametrize("block", of("sh"), ids=str)
def test_each_shell_command_is_one_the_project_accepts(block: Block) -> None:
    found = commands(block)
    assert found
    for words in found:
        check_command(words)


@pytest.mark.parametrize("block", of("nginx"), ids=str)
def test_nginx_blocks_include_the_deployed_file(block: Block) -> None:
    [path] = re.findall(r'^--8<-- "([^"]+)"$', block.text.strip())
    assert (ROOT / path).is_file()


def test_the_command_checks_refuse_what_they_should(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused: list[list[str]] = [
        ["tornado-socketio-jwt", "--no-such-option"],
        ["make", "no-such-target"],
        ["pip", "install", ".[no-such-extra]"],
        ["export", "NO_SUCH_VARIABLE=1"],
        ["curl", "http://127.0.0.1:9000/no-such-path"],
        ["rm", "-rf", "data"],
    ]
    for words in refused:
        with pytest.raises(AssertionError):
            check_command(list(words))


def test_readme_is_a_front_page_whose_links_resolve() -> None:
    readme = ROOT / "README.md"
    assert len(readme.read_text().splitlines()) <= 150
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme.read_text())
    local = [link for link in links if not re.match(r"^[a-z]+:", link)]
    assert local and [link for link in local if not (ROOT / link).exists()] == []
