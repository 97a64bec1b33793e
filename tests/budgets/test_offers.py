"""Offers through the API: draft, edit, publish, withdraw, and who sees what."""

from __future__ import annotations

from typing import Any

from tests.builders import (
    bearer_for,
    bearer_for_back_office,
    build_admin,
    build_offer,
    build_person_user,
    build_provider,
    build_provider_staff,
)

OFFER: dict[str, Any] = {
    "title": "Personal assistant hours",
    "description": "Help with getting out, shopping and appointments.",
    "category": "personal_assistant",
    "unit": "hour",
    "price": {"amount": 1850, "currency": "GBP"},
    "delivery_modes": ["in_person"],
    "languages": ["en", "pa"],
    "accessibility_notes": "Wheelchair accessible car.",
    "cancellation_terms": {"notice_hours": 48, "charge_percent": 50},
    "capacity": 10,
}


def _org_with_owner(db_session, **org: Any):  # type: ignore[no-untyped-def]
    organisation = build_provider(db_session, **org)
    from budgets.providers.models import ProviderArea

    organisation.areas = [ProviderArea(code="LS6", kind="postcode_district")]
    db_session.flush()
    return organisation, bearer_for(
        db_session, build_provider_staff(db_session, organisation=organisation)
    )


def test_offer_life_cycle(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org, staff = _org_with_owner(db_session)
    person = bearer_for(db_session, build_person_user(db_session))
    created = client.post(
        f"/v1/providers/{org.id}/offers", json=OFFER, headers={**staff, "Idempotency-Key": "o1"}
    )
    assert created.status_code == 201, created.json
    offer = created.json
    assert offer["status"] == "draft"
    assert offer["areas"] == ["LS6"]  # defaulted from the organisation
    assert offer["price"] == {"amount": 1850, "currency": "GBP"}
    assert offer["cancellation_terms"] == {"notice_hours": 48, "charge_percent": 50}
    assert offer["organisation_name"] == org.name
    url = f"/v1/offers/{offer['id']}"
    # Drafts are the provider's business only.
    assert client.get(url, headers=person).status_code == 404
    published = client.post(f"{url}/publish", headers=staff)
    assert published.status_code == 200 and published.json["status"] == "published"
    assert client.post(f"{url}/publish", headers=staff).status_code == 409
    assert client.get(url, headers=person).status_code == 200

    etag = client.get(url, headers=staff).headers["ETag"]
    changed = client.patch(
        url,
        json={"price": {"amount": 1900, "currency": "GBP"}, "delivery_modes": ["online"]},
        headers={**staff, "If-Match": etag},
    )
    assert changed.status_code == 200
    assert changed.json["price"]["amount"] == 1900
    assert changed.json["delivery_modes"] == ["online"] and changed.json["areas"] == []
    assert (
        client.patch(url, json={"title": "Again"}, headers={**staff, "If-Match": etag}).status_code
        == 412
    )
    assert client.patch(url, json={"title": "Again"}, headers=staff).status_code == 428

    withdrawn = client.post(f"{url}/withdraw", headers=staff)
    assert withdrawn.json["status"] == "withdrawn"
    assert client.get(url, headers=person).status_code == 404
    listed = client.get(f"/v1/providers/{org.id}/offers?status=withdrawn", headers=staff).json
    assert [o["id"] for o in listed["items"]] == [offer["id"]]


def test_offer_validation(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org, staff = _org_with_owner(db_session)
    url = f"/v1/providers/{org.id}/offers"
    cases = [
        {**OFFER, "category": "alcohol"},
        {**OFFER, "unit": "fortnight"},
        {**OFFER, "price": {"amount": 0, "currency": "GBP"}},
        {**OFFER, "price": {"amount": 10.5, "currency": "GBP"}},
        {**OFFER, "price": {"amount": 100, "currency": "EUR"}},
        {**OFFER, "delivery_modes": []},
        {**OFFER, "delivery_modes": ["by_post"]},
        {**OFFER, "cancellation_terms": {"notice_hours": 24, "charge_percent": 150}},
        {**OFFER, "delivery_modes": ["at_premises"]},  # no premises postcode
        {**OFFER, "premises_postcode": "nonsense"},
        {**OFFER, "surprise": True},
        {k: v for k, v in OFFER.items() if k != "title"},
    ]
    for body in cases:
        response = client.post(url, json=body, headers=staff)
        assert response.status_code == 422, (body, response.json)
    premises = client.post(
        url,
        json={**OFFER, "delivery_modes": ["at_premises"], "premises_postcode": "ls11 5qt"},
        headers=staff,
    )
    assert premises.status_code == 201
    assert premises.json["areas"] == []


def test_in_person_offer_needs_areas_when_the_organisation_has_none(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org = build_provider(db_session)
    staff = bearer_for(db_session, build_provider_staff(db_session, organisation=org))
    response = client.post(f"/v1/providers/{org.id}/offers", json=OFFER, headers=staff)
    assert response.status_code == 422 and "areas" in response.json["errors"]


def test_only_verified_providers_publish(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org, staff = _org_with_owner(db_session, status="unverified")
    created = client.post(f"/v1/providers/{org.id}/offers", json=OFFER, headers=staff)
    assert created.status_code == 201
    refused = client.post(f"/v1/offers/{created.json['id']}/publish", headers=staff)
    assert refused.status_code == 422 and refused.json["code"] == "provider-not-verified"
    suspended, suspended_staff = _org_with_owner(db_session, status="suspended")
    response = client.post(
        f"/v1/providers/{suspended.id}/offers", json=OFFER, headers=suspended_staff
    )
    assert response.status_code == 422


def test_other_organisations_cannot_touch_offers(client, db_session) -> None:  # type: ignore[no-untyped-def]
    offer = build_offer(db_session, status="draft")
    published = build_offer(db_session)
    other = bearer_for(db_session, build_provider_staff(db_session))
    assert client.get(f"/v1/offers/{offer.id}", headers=other).status_code == 404
    assert client.post(f"/v1/offers/{offer.id}/publish", headers=other).status_code == 404
    assert client.post(f"/v1/offers/{published.id}/withdraw", headers=other).status_code == 404
    assert (
        client.patch(
            f"/v1/offers/{published.id}",
            json={"title": "Mine now"},
            headers={**other, "If-Match": "*"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/v1/providers/{offer.organisation_id}/offers", json=OFFER, headers=other
        ).status_code
        == 404
    )
    person = bearer_for(db_session, build_person_user(db_session))
    assert client.post(f"/v1/offers/{published.id}/withdraw", headers=person).status_code == 403
    admin = bearer_for(db_session, build_admin(db_session))
    assert client.get(f"/v1/offers/{offer.id}", headers=admin).status_code == 200


def test_back_office_client_manages_its_offers(client, db_session) -> None:  # type: ignore[no-untyped-def]
    org, _ = _org_with_owner(db_session)
    headers = bearer_for_back_office(db_session, org, scopes={"providers:read", "providers:manage"})
    created = client.post(f"/v1/providers/{org.id}/offers", json=OFFER, headers=headers)
    assert created.status_code == 201
    assert (
        client.post(f"/v1/offers/{created.json['id']}/publish", headers=headers).status_code == 200
    )
    other = build_offer(db_session, status="draft")
    assert client.post(f"/v1/offers/{other.id}/publish", headers=headers).status_code == 404
