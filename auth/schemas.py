"""Schemas for accounts."""

from __future__ import annotations

import marshmallow as ma

from app.fast_dump import FastDumpSchema


class PersonSummarySchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    given_name = ma.fields.String(dump_only=True)
    family_name = ma.fields.String(dump_only=True)
    relationship = ma.fields.String(
        dump_only=True, metadata={"description": "self, parent, nominee or deputy"}
    )


class OrganisationMembershipSchema(ma.Schema):
    organisation_id = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    membership_role = ma.fields.String(dump_only=True)


class MeSchema(FastDumpSchema):
    """The signed-in user, their roles, and the people they can act for."""

    id = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    roles = ma.fields.List(ma.fields.String(), dump_only=True)
    scopes = ma.fields.List(ma.fields.String(), dump_only=True)
    person_id = ma.fields.String(dump_only=True, allow_none=True)
    acts_for = ma.fields.List(ma.fields.Nested(PersonSummarySchema), dump_only=True)
    organisations = ma.fields.List(ma.fields.Nested(OrganisationMembershipSchema), dump_only=True)
    commissioner_id = ma.fields.String(dump_only=True, allow_none=True)


class ClosedAccountSchema(ma.Schema):
    """A login that no longer works."""

    id = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    is_active = ma.fields.Boolean(dump_only=True)
