"""MkDocs hooks: the generated parts of the pages (see docs/generate.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

_SPEC = importlib.util.spec_from_file_location(
    "docs_generate", Path(__file__).with_name("generate.py")
)
assert _SPEC is not None and _SPEC.loader is not None
generate = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(generate)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Expand ``<!-- generated: NAME -->`` lines."""
    return generate.expand(markdown)  # type: ignore[no-any-return]
