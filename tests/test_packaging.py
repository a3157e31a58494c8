"""The built wheel and sdist: what they hold, and a fresh venv serving from them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.packaging_support import (
    ROOT,
    build_sdist,
    build_wheel,
    clean_environment,
    make_venv,
    oldest_python,
    run,
)
from tests.server_process import free_port, http_login, wait_for_line
from tornado_socketio_jwt._version import __version__

PACKAGE = "tornado_socketio_jwt"
BUNDLE = "static/vendor/socket.io.esm.min.js"
COMMAND = "tornado-socketio-jwt"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def venv_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(oldest_python(), tmp_path_factory.mktemp("venv") / "v", wheel)


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def read_member(wheel: Path, suffix: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(suffix)]
        return archive.read(name).decode()


def test_the_wheel_holds_every_static_file_and_the_vendored_bundle(wheel: Path) -> None:
    names = wheel_names(wheel)
    static = ROOT / "static"
    expected = {
        f"{PACKAGE}/static/{path.relative_to(static).as_posix()}"
        for path in static.rglob("*")
        if path.is_file()
    }
    assert expected <= names, expected - names
    assert f"{PACKAGE}/{BUNDLE}" in names and f"{PACKAGE}/{BUNDLE}.map" in names
    assert not any(".data/" in name for name in names)  # no data_files under share/


def test_the_wheel_ships_py_typed_the_licence_and_the_cli(wheel: Path) -> None:
    names = wheel_names(wheel)
    assert {f"{PACKAGE}/py.typed", f"{PACKAGE}/__main__.py"} <= names
    assert any(re.search(r"\.dist-info/(licenses/)?LICENSE$", n) for n in names)
    entry_points = read_member(wheel, ".dist-info/entry_points.txt")
    assert f"{COMMAND} = {PACKAGE}.cli:main" in entry_points


def test_the_wheel_metadata_declares_version_pythons_and_licence(wheel: Path) -> None:
    metadata = read_member(wheel, ".dist-info/METADATA")
    assert f"\nVersion: {__version__}\n" in metadata
    assert "\nRequires-Python: >=3.10\n" in metadata
    for version in ("3.10", "3.11"):
        assert f"Programming Language :: Python :: {version}\n" in metadata
    assert "License :: OSI Approved :: MIT License" in metadata


def test_the_sdist_holds_what_building_and_testing_need(tmp_path: Path) -> None:
    with tarfile.open(build_sdist(tmp_path)) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    needed = {
        BUNDLE,
        "static/index.html",
        "LICENSE",
        "CHANGELOG.md",
        "package-lock.json",
        "server.py",
        "docs/embedding.md",
        "docs/generate.py",
        "mkdocs.yml",
        "tests/conftest.py",
        "tests/server_process.py",
        "tests/node/client.mjs",
    }
    assert needed <= names, needed - names
    assert not any(n.startswith(("node_modules/", ".venv/")) for n in names)


def test_the_vendored_bundle_is_the_version_the_npm_lock_file_pins() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/socket.io-client"]["version"]
    assert f"Socket.IO v{version}\n" in (ROOT / BUNDLE).read_text()[:200]
    assert (
        f"socket.io-client {version}" in (ROOT / "static/vendor/README.md").read_text()
    )
    installed = ROOT / "node_modules/socket.io-client/dist/socket.io.esm.min.js"
    if installed.is_file():  # after npm ci, as make setup runs it
        assert installed.read_bytes() == (ROOT / BUNDLE).read_bytes()


def test_a_zip_import_of_the_wheel_finds_an_extracted_client(wheel: Path) -> None:
    code = (
        "import pathlib, tornado_socketio_jwt.web.static as s\n"
        "d = pathlib.Path(s.find_static_dir())\n"
        "print(s.__file__, (d / 'index.html').is_file(),"
        " (d / 'vendor/socket.io.esm.min.js').is_file())\n"
    )
    env = dict(clean_environment(), PYTHONPATH=str(wheel))
    out = run([sys.executable, "-c", code], env=env, cwd=wheel.parent, timeout=60)
    assert out.stdout.split() == [f"{wheel}/{PACKAGE}/web/static.py", "True", "True"]


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory far from the checkout."""
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    return directory


def test_the_installed_package_is_not_the_checkout(venv_bin: Path) -> None:
    out = run(
        [
            str(venv_bin / "python"),
            "-c",
            f"import {PACKAGE}; print({PACKAGE}.__file__)",
        ],
        env=clean_environment(),
        cwd=venv_bin,
    )
    assert "site-packages" in out.stdout and str(ROOT) not in out.stdout


def test_the_installed_module_entry_point_shows_the_help(venv_bin: Path) -> None:
    out = run(
        [str(venv_bin / "python"), "-m", PACKAGE, "--help"], env=clean_environment()
    )
    assert "adduser" in out.stdout and "passwd" in out.stdout


@pytest.fixture
def served(venv_bin: Path, elsewhere: Path) -> Iterator[int]:
    """The console command: adduser, then serve (default ./data) on a free port."""
    command, env = str(venv_bin / COMMAND), clean_environment()
    run(
        [command, "adduser", "alice", "--email", "alice@example.com"],
        input="alice-password\n",
        env=env,
        cwd=elsewhere,
        timeout=60,
    )
    port = free_port()
    process = subprocess.Popen(
        [command, "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=elsewhere,
    )
    try:
        wait_for_line(process, "listening on")
        yield port
    finally:
        process.terminate()
        code = process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]
    assert code == 0


def fetch(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=10) as r:
        return r.status, r.read().decode()


def test_the_installed_command_serves_the_page_its_scripts_and_a_login(
    served: int, elsewhere: Path
) -> None:
    status, page = fetch(served, "")
    assert status == 200 and 'id="login-form"' in page
    assets = re.findall(r'(?:src|href)="(client/[^"]+)"', page)
    assert {"client/app.js", "client/style.css"} <= set(assets)
    scripts = [fetch(served, asset) for asset in assets]
    assert all(status == 200 for status, _ in scripts)
    app_js = dict(zip(assets, scripts, strict=False))["client/app.js"][1]
    imports = re.findall(r'from "\./([^"]+)"', app_js)
    assert "vendor/socket.io.esm.min.js" in imports
    for module in imports:
        status, body = fetch(served, f"client/{module}")
        assert status == 200 and body
    assert fetch(served, "client/vendor/socket.io.esm.min.js.map")[0] == 200
    assert http_login(served, "alice", "alice-password")["token_type"] == "Bearer"
    assert (elsewhere / "data" / "users.sqlite3").is_file()
