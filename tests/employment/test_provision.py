"""IPS services and specialists: set-up by verified providers, finding by area, caseloads."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.builders import (
    bearer_for,
    bearer_for_back_office,
    build_admin,
    build_commissioner,
    build_person_user,
    build_provider,
    build_provider_staff,
)
from tests.employment.builders import build_service, build_specialist

URL = "/v1/employment/services"


def _service_body(organisation_id: str, commissioner_id: str, **overrides: object) -> dict:
    body = {
        "provider_organisation_id": organisation_id,
        "commissioner_id": commissioner_id,
        "name": "Leeds IPS",
        "areas_served": ["ls6", "LS11"],
        "integrated_teams": ["Leeds North CMHT"],
        "contact_email": "ips@leeds.example",
    }
    body.update(overrides)
    return body


class TestServiceLifeCycle:
    def test_staff_create_read_update_service(self, client: FlaskClient, db_session: Session):
        staff = build_provider_staff(db_session)
        organisation_id = staff_org(db_session, staff)
        commissioner = build_commissioner(db_session)
        headers = bearer_for(db_session, staff)

        created = client.post(
            URL, json=_service_body(organisation_id, commissioner.id), headers=headers
        )
        assert created.status_code == 201, created.json
        service = created.json
        assert service["areas_served"] == ["LS11", "LS6"]
        assert service["caseload_limit_per_fte"] == 20

        read = client.get(f"{URL}/{service['id']}", headers=headers)
        assert read.status_code == 200
        etag = read.headers["ETag"]

        no_match = client.patch(f"{URL}/{service['id']}", json={"name": "X"}, headers=headers)
        assert no_match.status_code == 428
        changed = client.patch(
            f"{URL}/{service['id']}",
            json={"caseload_limit_per_fte": 18},
            headers={**headers, "If-Match": etag},
        )
        assert changed.status_code == 200
        assert changed.json["caseload_limit_per_fte"] == 18
        stale = client.patch(
            f"{URL}/{service['id']}", json={"name": "Y"}, headers={**headers, "If-Match": etag}
        )
        assert stale.status_code == 412

    def test_unverified_provider_cannot_run_a_service(self, client, db_session):
        organisation = build_provider(db_session, status="unverified")
        staff = build_provider_staff(db_session, organisation=organisation)
        commissioner = build_commissioner(db_session)
        response = client.post(
            URL,
            json=_service_body(organisation.id, commissioner.id),
            headers=bearer_for(db_session, staff),
        )
        assert response.status_code == 422
        assert response.json["code"] == "provider-not-verified"

    def test_another_organisation_gets_404(self, client, db_session):
        staff = build_provider_staff(db_session)
        other = build_provider(db_session)
        commissioner = build_commissioner(db_session)
        response = client.post(
            URL,
            json=_service_body(other.id, commissioner.id),
            headers=bearer_for(db_session, staff),
        )
        assert response.status_code == 404

    def test_validation_and_unknown_fields(self, client, db_session):
        staff = build_provider_staff(db_session)
        headers = bearer_for(db_session, staff)
        response = client.post(
            URL,
            json={"name": "", "areas_served": ["not a district"], "surprise": 1},
            headers=headers,
        )
        assert response.status_code == 422
        errors = response.json["errors"]
        assert {"name", "areas_served", "surprise", "contact_email"} <= set(errors)

    def test_person_cannot_create_a_service(self, client, db_session):
        person = build_person_user(db_session)
        response = client.post(URL, json={}, headers=bearer_for(db_session, person))
        assert response.status_code == 403

    def test_back_office_client_creates_service(self, client, db_session):
        organisation = build_provider(db_session)
        commissioner = build_commissioner(db_session)
        headers = bearer_for_back_office(db_session, organisation, scopes={"employment:manage"})
        response = client.post(
            URL, json=_service_body(organisation.id, commissioner.id), headers=headers
        )
        assert response.status_code == 201

    def test_idempotent_create(self, client, db_session):
        staff = build_provider_staff(db_session)
        commissioner = build_commissioner(db_session)
        headers = {**bearer_for(db_session, staff), "Idempotency-Key": "svc-1"}
        body = _service_body(staff_org(db_session, staff), commissioner.id)
        first = client.post(URL, json=body, headers=headers)
        again = client.post(URL, json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json["id"] == first.json["id"]


class TestFindingServices:
    def test_person_finds_services_covering_their_district(self, client, db_session):
        covering = build_service(db_session, areas=("LS6", "LS7"))
        build_service(db_session, areas=("BD1",))
        person = build_person_user(db_session)
        response = client.get(
            f"{URL}?postcode_district=ls6", headers=bearer_for(db_session, person)
        )
        assert response.status_code == 200
        assert [s["id"] for s in response.json["items"]] == [covering.id]

    def test_bad_district_is_422(self, client, db_session):
        person = build_person_user(db_session)
        response = client.get(
            f"{URL}?postcode_district=%%%", headers=bearer_for(db_session, person)
        )
        assert response.status_code == 422

    def test_no_token_is_401(self, client):
        assert client.get(URL).status_code == 401


class TestSpecialists:
    def test_add_specialist_and_show_caseload_limit(self, client, db_session):
        service = build_service(db_session)
        owner = build_provider_staff_for(db_session, service)
        colleague = build_provider_staff_for(db_session, service)
        headers = bearer_for(db_session, owner)
        created = client.post(
            f"{URL}/{service.id}/specialists",
            json={"user_id": colleague.id, "fte": "0.6"},
            headers=headers,
        )
        assert created.status_code == 201, created.json
        assert created.json["fte"] == 0.6
        assert created.json["caseload"] == {
            "open": 0,
            "active": 0,
            "limit": 12,
            "over_limit": False,
        }

        duplicate = client.post(
            f"{URL}/{service.id}/specialists",
            json={"user_id": colleague.id, "fte": "0.6"},
            headers=headers,
        )
        assert duplicate.status_code == 409

        listed = client.get(f"{URL}/{service.id}/specialists", headers=headers)
        assert [s["id"] for s in listed.json["items"]] == [created.json["id"]]

        item = client.get(f"/v1/employment/specialists/{created.json['id']}", headers=headers)
        changed = client.patch(
            f"/v1/employment/specialists/{created.json['id']}",
            json={"fte": 1},
            headers={**headers, "If-Match": item.headers["ETag"]},
        )
        assert changed.status_code == 200
        assert changed.json["caseload"]["limit"] == 20

    def test_specialist_must_be_provider_staff(self, client, db_session):
        service = build_service(db_session)
        owner = build_provider_staff_for(db_session, service)
        outsider = build_provider_staff(db_session)
        response = client.post(
            f"{URL}/{service.id}/specialists",
            json={"user_id": outsider.id, "fte": "1"},
            headers=bearer_for(db_session, owner),
        )
        assert response.status_code == 422
        assert response.json["code"] == "not-provider-staff"

    def test_fte_out_of_range_is_422(self, client, db_session):
        service = build_service(db_session)
        owner = build_provider_staff_for(db_session, service)
        response = client.post(
            f"{URL}/{service.id}/specialists",
            json={"user_id": owner.id, "fte": "1.5"},
            headers=bearer_for(db_session, owner),
        )
        assert response.status_code == 422

    def test_other_provider_and_admin_get_404_for_specialists(self, client, db_session):
        service = build_service(db_session)
        specialist = build_specialist(db_session, service=service)
        other = build_provider_staff(db_session)
        for user in (other,):
            headers = bearer_for(db_session, user)
            assert client.get(f"{URL}/{service.id}/specialists", headers=headers).status_code == 404
            assert (
                client.get(
                    f"/v1/employment/specialists/{specialist.id}", headers=headers
                ).status_code
                == 404
            )
        admin = build_admin(db_session)
        response = client.get(
            f"/v1/employment/specialists/{specialist.id}", headers=bearer_for(db_session, admin)
        )
        assert response.status_code == 403  # admins never run a service


def staff_org(session: Session, user) -> str:  # type: ignore[no-untyped-def]
    from auth.models import ProviderMembership

    membership = session.query(ProviderMembership).filter_by(user_id=user.id).one()
    return membership.organisation_id


def build_provider_staff_for(session: Session, service):  # type: ignore[no-untyped-def]
    from budgets.providers.models import ProviderOrganisation

    organisation = session.get(ProviderOrganisation, service.provider_organisation_id)
    return build_provider_staff(session, organisation=organisation, membership_role="staff")
