"""The contract document: generated from the code, committed, and released.

`mobile_contract/openapi.json` is the live document as the code produces it, written by
`flask write-openapi`. A test fails whenever the two differ, so every change to the
contract shows up as a reviewed diff. `mobile_contract/releases/<version>.json` keeps
each version shipped to the app; the breaking-change checker compares against the latest.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Flask

CONTRACT_DIR = Path(__file__).resolve().parent
OPENAPI_PATH = CONTRACT_DIR / "openapi.json"
RELEASES_DIR = CONTRACT_DIR / "releases"
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def live_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document the app serves at /openapi.json, as plain JSON data."""
    with app.app_context():
        document = app.extensions["api"].spec.to_dict()
    return dict(json.loads(json.dumps(document)))


def render(document: dict[str, Any]) -> str:
    """The canonical text of a document: sorted keys, two-space indent, final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load(path: Path) -> dict[str, Any]:
    """Read a stored document."""
    return dict(json.loads(path.read_text(encoding="utf-8")))


def version_key(version: str) -> tuple[int, int, int]:
    """Sort key of a release version `MAJOR.MINOR.PATCH`."""
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"release versions look like 1.2.0, got {version!r}")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def releases(directory: Path = RELEASES_DIR) -> list[Path]:
    """Every released document, oldest first."""
    found = [p for p in directory.glob("*.json") if _VERSION.match(p.stem)]
    return sorted(found, key=lambda p: version_key(p.stem))


def latest_release(directory: Path = RELEASES_DIR) -> Path | None:
    """The newest released document, or None before the first release."""
    found = releases(directory)
    return found[-1] if found else None
