"""The committed contract matches the code, is valid OpenAPI 3.1, and keeps its releases."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from openapi_spec_validator import validate

from mobile_contract.compat import find_breaking_changes
from mobile_contract.document import OPENAPI_PATH, latest_release, live_document, load, render


def test_committed_document_matches_the_code(app: Flask) -> None:
    live = render(live_document(app))
    committed = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
    assert committed == live, (
        "mobile_contract/openapi.json differs from the API the code serves. If the change is "
        "intended, run `make openapi` (flask write-openapi) and commit the diff for review."
    )


def test_served_document_is_the_same_as_the_generated_one(app: Flask) -> None:
    served = app.test_client().get("/openapi.json").get_json()
    assert served == live_document(app)


def test_committed_document_is_valid_openapi_3_1() -> None:
    document = load(OPENAPI_PATH)
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_contract_does_not_break_the_latest_release() -> None:
    release = latest_release()
    assert release is not None, "mobile_contract/releases/ needs at least the first release"
    breaks = find_breaking_changes(load(release), load(OPENAPI_PATH))
    assert not breaks, (
        f"openapi.json breaks release {release.stem}:\n"
        + "\n".join(f"  {b}" for b in breaks)
        + "\nKeep the old shape (add, do not change), or deprecate with a sunset date first."
    )


def test_every_release_is_valid_openapi() -> None:
    release = latest_release()
    assert release is not None
    for path in sorted(Path(release).parent.glob("*.json")):
        validate(load(path))


def test_write_openapi_command_writes_the_live_document(app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    result = app.test_cli_runner().invoke(args=["write-openapi", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == render(live_document(app))


def test_check_contract_command_passes_on_the_current_code(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["check-contract"])
    assert result.exit_code == 0, result.output
    assert "compatible with release" in result.output


def test_check_contract_command_fails_on_a_breaking_change(app: Flask, tmp_path: Path) -> None:
    released = live_document(app)
    released["paths"]["/v1/retired"] = {
        "get": {"summary": "Gone without a sunset", "responses": {"200": {"description": "OK"}}}
    }
    release = tmp_path / "9.0.0.json"
    release.write_text(render(released), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["check-contract", "--release", str(release)])
    assert result.exit_code != 0
    assert "BREAKING removed-path at GET /v1/retired" in result.output
    assert "1 breaking change(s) against release 9.0.0" in result.output
