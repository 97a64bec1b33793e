"""Schemas for employers, employer contacts (job development), jobs and follow-along."""

from __future__ import annotations

import marshmallow as ma

from app.money import PositiveMoneySchema
from app.pagination import PageArgsSchema
from employment.provision.schemas import StrictSchema
from employment.referrals.schemas import ID
from employment.rules import EMPLOYER_CONTACT_PURPOSES, JOB_END_REASONS

NAME = ma.validate.Length(min=1, max=200)
HOURS = ma.validate.Range(min=0.25, max=80)


class EmployerSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    service_id = ma.fields.String(dump_only=True)
    name = ma.fields.String(required=True, validate=NAME)
    sector = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=100)
    )


class EmployerContactSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    service_id = ma.fields.String(dump_only=True)
    employer_id = ma.fields.String(required=True, validate=ID)
    specialist_id = ma.fields.String(
        load_default=None,
        validate=ID,
        metadata={"description": "Defaults to you, if you are a specialist in this service."},
    )
    occurred_on = ma.fields.Date(required=True)
    face_to_face = ma.fields.Boolean(required=True)
    purpose = ma.fields.String(required=True, validate=ma.validate.OneOf(EMPLOYER_CONTACT_PURPOSES))
    referral_ids = ma.fields.List(
        ma.fields.String(validate=ID),
        load_default=list,
        validate=ma.validate.Length(max=50),
        metadata={"description": "The people (referrals) this contact was for."},
    )


class EmployerContactQueryArgsSchema(PageArgsSchema):
    specialist_id = ma.fields.String(load_default=None, validate=ID)


class JobSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    referral_id = ma.fields.String(dump_only=True)
    employer_id = ma.fields.String(load_default=None, allow_none=True, validate=ID)
    employer_name = ma.fields.String(load_default=None, validate=NAME)
    role = ma.fields.String(required=True, validate=NAME)
    start_date = ma.fields.Date(required=True)
    hours_per_week = ma.fields.Float(required=True, validate=HOURS)
    hourly_pay = ma.fields.Nested(PositiveMoneySchema, required=True)
    is_self_employment = ma.fields.Boolean(load_default=False)
    open_to_anyone = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "Open to anyone, not reserved for disabled people."},
    )
    four_paid_hours_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "When 4 paid hours were reached: the job start counts then."},
    )
    minimum_wage = ma.fields.Nested(PositiveMoneySchema, dump_only=True, allow_none=True)
    is_competitive = ma.fields.Boolean(dump_only=True)
    hours_band = ma.fields.String(dump_only=True)
    end_date = ma.fields.Date(dump_only=True, allow_none=True)
    end_reason = ma.fields.String(dump_only=True, allow_none=True)


class JobUpdateSchema(StrictSchema):
    four_paid_hours_on = ma.fields.Date(allow_none=True)
    hours_per_week = ma.fields.Float(validate=HOURS)
    hourly_pay = ma.fields.Nested(PositiveMoneySchema)
    end_date = ma.fields.Date(allow_none=True)
    end_reason = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(JOB_END_REASONS))


class FollowAlongQueryArgsSchema(PageArgsSchema):
    as_of = ma.fields.Date(load_default=None, metadata={"description": "Default: today."})
    overdue_only = ma.fields.Boolean(load_default=False)


class FollowAlongSchema(StrictSchema):
    job_id = ma.fields.String(dump_only=True)
    referral_id = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True)
    specialist_id = ma.fields.String(dump_only=True, allow_none=True)
    start_date = ma.fields.Date(dump_only=True)
    last_support_on = ma.fields.Date(dump_only=True, allow_none=True)
    due_by = ma.fields.Date(dump_only=True)
    overdue = ma.fields.Boolean(dump_only=True)
