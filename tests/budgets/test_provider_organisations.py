"""Provider organisations through the API: sign-up, registration, decisions, members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.audit import AuditEntry
from app.notifications import Notification
from auth.models import User
from tests.builders import (
    bearer_for,
    bearer_for_back_office,
    build_admin,
    build_person_user,
    build_provider,
    build_provider_staff,
    build_user,
)

ORG = {
    "name": "Kindly Care Ltd",
    "kind": "company",
    "delivers_regulated_care": True,
    "cqc_registration_number": "1-123456789",
    "areas_served": ["ls6", "LS7", "E08000035"],
    "contact_email": "hello@kindly.example",
}


def sign_up(client, **org: Any) -> Any:  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/provider-sign-ups",
        json={
            "organisation": {**ORG, **org},
            "owner": {
                "email": "Owner@Kindly.example",
                "display_name": "Olu Owner",
                "password": "correct horse battery",
            },
        },
    )


def test_sign_up_creates_an_unverified_organisation_and_its_owner(client, db_session) -> None:  # type: ignore[no-untyped-def]
    response = sign_up(client)
    assert response.status_code == 201, response.json
    body = response.json
    org = body["organisation"]
    assert org["status"] == "unverified"
    assert org["areas_served"] == ["E08000035", "LS6", "LS7"]
    owner = db_session.get(User, body["owner_user_id"])
    assert owner.email == "owner@kindly.example"
    assert owner.password_hash.startswith("$argon2id$")
    assert "provider_staff" in owner.roles
    headers = bearer_for(db_session, owner)
    me = client.get("/v1/me", headers=headers).json
    assert me["organisations"][0]["membership_role"] == "owner"
    # The same email again is a conflict, not a second account.
    assert sign_up(client).status_code == 409


def test_sign_up_validation(client) -> None:  # type: ignore[no-untyped-def]
    missing_cqc = sign_up(client, cqc_registration_number=None)
    assert missing_cqc.status_code == 422
    assert "cqc_registration_number" in missing_cqc.json["errors"]["organisation"]
    bad_area = sign_up(client, areas_served=["Leeds!"])
    assert bad_area.status_code == 422
    unknown = sign_up(client, colour="blue")
    assert unknown.status_code == 422
    bad_kind = sign_up(client, kind="cooperative")
    assert "kind" in bad_kind.json["errors"]["organisation"]
    # A self-employed personal assistant needs no CQC number.
    pa = sign_up(
        client,
        name="Jo Smith PA",
        kind="individual",
        delivers_regulated_care=False,
        cqc_registration_number=None,
    )
    assert pa.status_code == 201


def test_admin_verifies_rejects_and_suspends_with_reasons(client, db_session) -> None:  # type: ignore[no-untyped-def]
    admin = bearer_for(db_session, build_admin(db_session))
    org = build_provider(db_session, status="unverified")
    owner = build_provider_staff(db_session, organisation=org)
    owner_headers = bearer_for(db_session, owner)

    no_reason = client.post(f"/v1/providers/{org.id}/reject", json={}, headers=admin)
    assert no_reason.status_code == 422
    rejected = client.post(
        f"/v1/providers/{org.id}/reject", json={"reason": "CQC number not found"}, headers=admin
    )
    assert rejected.json["status"] == "rejected"
    seen = client.get(f"/v1/providers/{org.id}", headers=owner_headers).json
    assert seen["status_reason"] == "CQC number not found"
    # Suspending needs a verified organisation.
    assert (
        client.post(
            f"/v1/providers/{org.id}/suspend", json={"reason": "x" * 5}, headers=admin
        ).status_code
        == 409
    )
    verified = client.post(f"/v1/providers/{org.id}/verify", json={}, headers=admin)
    assert verified.status_code == 200 and verified.json["status"] == "verified"
    suspended = client.post(
        f"/v1/providers/{org.id}/suspend", json={"reason": "Safeguarding review"}, headers=admin
    )
    assert suspended.json["status"] == "suspended"
    kinds = set(
        db_session.scalars(select(Notification.kind).where(Notification.user_id == owner.id))
    )
    assert {"provider.reject", "provider.verify", "provider.suspend"} <= kinds
    actions = set(
        db_session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == org.id))
    )
    assert {"provider.reject", "provider.verify", "provider.suspend"} <= actions


def test_only_admins_decide(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org = build_provider(db_session, status="unverified")
    staff = bearer_for(db_session, build_provider_staff(db_session, organisation=org))
    response = client.post(f"/v1/providers/{org.id}/verify", json={}, headers=staff)
    assert response.status_code == 403
    admin = bearer_for(db_session, build_admin(db_session))
    assert client.post("/v1/providers/nope/verify", json={}, headers=admin).status_code == 404
    assert client.post(f"/v1/providers/{org.id}/verify", json={}).status_code == 401


def test_visibility_of_organisations(client, db_session) -> None:  # type: ignore[no-untyped-def]
    verified = build_provider(db_session)
    pending = build_provider(db_session, status="unverified")
    person = bearer_for(db_session, build_person_user(db_session))
    other_staff = bearer_for(db_session, build_provider_staff(db_session))
    own_staff = bearer_for(db_session, build_provider_staff(db_session, organisation=pending))
    admin = bearer_for(db_session, build_admin(db_session))

    assert client.get(f"/v1/providers/{verified.id}", headers=person).status_code == 200
    assert client.get(f"/v1/providers/{pending.id}", headers=person).status_code == 404
    assert client.get(f"/v1/providers/{pending.id}", headers=other_staff).status_code == 404
    assert client.get(f"/v1/providers/{pending.id}", headers=own_staff).status_code == 200
    assert client.get(f"/v1/providers/{pending.id}", headers=admin).status_code == 200

    listed = client.get("/v1/providers?limit=100", headers=person).json["items"]
    ids = {o["id"] for o in listed}
    assert verified.id in ids and pending.id not in ids
    queue = client.get("/v1/providers?status=unverified&limit=100", headers=admin).json["items"]
    assert pending.id in {o["id"] for o in queue}
    mine = client.get("/v1/providers?mine=true", headers=own_staff).json["items"]
    assert [o["id"] for o in mine] == [pending.id]


def test_owner_updates_details_with_if_match(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org = build_provider(db_session)
    owner = bearer_for(db_session, build_provider_staff(db_session, organisation=org))
    staff = bearer_for(
        db_session, build_provider_staff(db_session, organisation=org, membership_role="staff")
    )
    read = client.get(f"/v1/providers/{org.id}", headers=owner)
    etag = read.headers["ETag"]
    url = f"/v1/providers/{org.id}"
    assert client.patch(url, json={"name": "New"}, headers=owner).status_code == 428
    assert (
        client.patch(url, json={"name": "New"}, headers={**staff, "If-Match": etag}).status_code
        == 403
    )
    changed = client.patch(
        url, json={"name": "New name", "areas_served": ["LS1"]}, headers={**owner, "If-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.json["name"] == "New name" and changed.json["areas_served"] == ["LS1"]
    assert changed.json["status"] == "verified"
    stale = client.patch(url, json={"name": "Again"}, headers={**owner, "If-Match": etag})
    assert stale.status_code == 412
    # Saying it now delivers regulated care needs a CQC number, then verifying again.
    fresh = changed.headers["ETag"]
    no_cqc = client.patch(
        url, json={"delivers_regulated_care": True}, headers={**owner, "If-Match": fresh}
    )
    assert no_cqc.status_code == 422
    regulated = client.patch(
        url,
        json={"delivers_regulated_care": True, "cqc_registration_number": "1-987654321"},
        headers={**owner, "If-Match": fresh},
    )
    assert regulated.json["status"] == "unverified"
    other = bearer_for(db_session, build_provider_staff(db_session))
    assert (
        client.patch(url, json={"name": "x"}, headers={**other, "If-Match": "*"}).status_code == 404
    )


def test_staff_register_another_organisation(client, db_session) -> None:  # type: ignore[no-untyped-def]
    staff = bearer_for(db_session, build_provider_staff(db_session))
    response = client.post(
        "/v1/providers",
        json={**ORG, "name": "Second Org"},
        headers={**staff, "Idempotency-Key": "org-1"},
    )
    assert response.status_code == 201
    again = client.post(
        "/v1/providers",
        json={**ORG, "name": "Second Org"},
        headers={**staff, "Idempotency-Key": "org-1"},
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json["id"] == response.json["id"]
    person = bearer_for(db_session, build_person_user(db_session))
    assert client.post("/v1/providers", json=ORG, headers=person).status_code == 403


def test_members(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org = build_provider(db_session)
    owner_user = build_provider_staff(db_session, organisation=org)
    owner = bearer_for(db_session, owner_user)
    newcomer = build_user(db_session, roles=(), email="new.staff@test.example")
    url = f"/v1/providers/{org.id}/members"
    added = client.post(url, json={"email": "NEW.staff@test.example"}, headers=owner)
    assert added.status_code == 201 and added.json["membership_role"] == "staff"
    db_session.refresh(newcomer)
    assert "provider_staff" in newcomer.roles
    assert (
        client.post(url, json={"email": "new.staff@test.example"}, headers=owner).status_code == 409
    )
    assert client.post(url, json={"email": "nobody@test.example"}, headers=owner).status_code == 404
    listed = client.get(url, headers=owner).json["items"]
    assert {m["user_id"] for m in listed} == {owner_user.id, newcomer.id}
    staff = bearer_for(db_session, newcomer)
    assert client.delete(f"{url}/{owner_user.id}", headers=staff).status_code == 403
    assert client.delete(f"{url}/{owner_user.id}", headers=owner).status_code == 409
    assert client.delete(f"{url}/{newcomer.id}", headers=owner).status_code == 204
    outsider = bearer_for(db_session, build_provider_staff(db_session))
    assert client.get(url, headers=outsider).status_code == 404


def test_back_office_client_reads_its_own_organisation_only(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org = build_provider(db_session, status="unverified")
    other = build_provider(db_session, status="unverified")
    headers = bearer_for_back_office(db_session, org, scopes={"providers:read"})
    assert client.get(f"/v1/providers/{org.id}", headers=headers).status_code == 200
    assert client.get(f"/v1/providers/{other.id}", headers=headers).status_code == 404
