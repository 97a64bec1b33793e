"""Schemas for referrals, caseload assignment, contacts and appointments.

There is deliberately no field for a reason to turn someone away: unknown fields are
rejected, and closure reasons are a closed list (zero exclusion).
"""

from __future__ import annotations

import marshmallow as ma

from app.sync import SyncArgsSchema
from employment.provision.schemas import StrictSchema
from employment.rules import (
    CLOSURE_REASONS,
    CONTACT_MODES,
    CONTACT_SETTINGS,
    CONTACT_WITH,
    REFERRAL_STATES,
)

ID = ma.validate.Length(min=1, max=36)


class ReferralSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    service_id = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True)
    source = ma.fields.String(dump_only=True, metadata={"description": "self, broker or clinician"})
    referrer_team = ma.fields.String(dump_only=True, allow_none=True)
    care_plan_outcome_id = ma.fields.String(dump_only=True, allow_none=True)
    in_work_at_referral = ma.fields.Boolean(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata={"enum": list(REFERRAL_STATES)})
    received_on = ma.fields.Date(dump_only=True)
    accepted_on = ma.fields.Date(dump_only=True, allow_none=True)
    first_contact_on = ma.fields.Date(dump_only=True, allow_none=True)
    active_on = ma.fields.Date(dump_only=True, allow_none=True)
    discharged_on = ma.fields.Date(dump_only=True, allow_none=True)
    closure_reason = ma.fields.String(dump_only=True, allow_none=True)
    specialist_id = ma.fields.String(dump_only=True, allow_none=True)


class ReferralCreateSchema(StrictSchema):
    service_id = ma.fields.String(required=True, validate=ID)
    person_id = ma.fields.String(required=True, validate=ID)
    wants_paid_work = ma.fields.Boolean(
        required=True,
        metadata={"description": "The only eligibility question IPS asks (zero exclusion)."},
    )
    in_work_at_referral = ma.fields.Boolean(
        required=True, metadata={"description": "In paid work when referred (for the measures)."}
    )
    care_plan_outcome_id = ma.fields.String(
        load_default=None,
        validate=ID,
        metadata={"description": "The care-plan outcome this serves, e.g. 'get a job'."},
    )
    referrer_team = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Clinician referrals: the referring team."},
    )
    received_on = ma.fields.Date(load_default=None)


class ReferralQueryArgsSchema(SyncArgsSchema):
    service_id = ma.fields.String(load_default=None, validate=ID)
    person_id = ma.fields.String(load_default=None, validate=ID)
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(REFERRAL_STATES))


OVERRIDE_REASON = ma.fields.String(
    load_default=None,
    validate=ma.validate.Length(min=3, max=500),
    metadata={"description": "Why the caseload limit is exceeded (recorded); needed when over."},
)


class AcceptSchema(StrictSchema):
    specialist_id = ma.fields.String(required=True, validate=ID)
    accepted_on = ma.fields.Date(required=True)
    caseload_override_reason = OVERRIDE_REASON


class ReassignSchema(StrictSchema):
    specialist_id = ma.fields.String(required=True, validate=ID)
    caseload_override_reason = OVERRIDE_REASON


class ActivateSchema(StrictSchema):
    active_on = ma.fields.Date(required=True)


class DischargeSchema(StrictSchema):
    discharged_on = ma.fields.Date(required=True)
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(CLOSURE_REASONS))


class ContactSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    referral_id = ma.fields.String(dump_only=True)
    specialist_id = ma.fields.String(dump_only=True, allow_none=True)
    occurred_on = ma.fields.Date(required=True)
    with_whom = ma.fields.String(required=True, validate=ma.validate.OneOf(CONTACT_WITH))
    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(CONTACT_MODES))
    setting = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf(CONTACT_SETTINGS),
        metadata={"description": "In person only: community or office."},
    )
    job_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ID,
        metadata={"description": "In-work (follow-along) support for this job."},
    )


class AppointmentSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    referral_id = ma.fields.String(dump_only=True)
    specialist_id = ma.fields.String(dump_only=True, allow_none=True)
    starts_at = ma.fields.AwareDateTime(required=True, default_timezone=None)
    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(CONTACT_MODES))
    location = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=200)
    )
    status = ma.fields.String(dump_only=True)
