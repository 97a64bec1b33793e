"""Schema of the person's IPS journey."""

from __future__ import annotations

import marshmallow as ma

from employment.casework.schemas import VocationalProfileSchema
from employment.jobs.schemas import JobSchema
from employment.referrals.schemas import AppointmentSchema, ReferralSchema


class ServiceContactSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    contact_email = ma.fields.String()
    contact_phone = ma.fields.String(allow_none=True)


class SpecialistNameSchema(ma.Schema):
    id = ma.fields.String()
    display_name = ma.fields.String(allow_none=True)


class EmployerContactSummarySchema(ma.Schema):
    occurred_on = ma.fields.Date()
    employer_name = ma.fields.String()
    face_to_face = ma.fields.Boolean()


class JobSearchSchema(ma.Schema):
    employer_contacts = ma.fields.Integer(
        metadata={"description": "Employer contacts made for you so far."}
    )
    recent = ma.fields.List(ma.fields.Nested(EmployerContactSummarySchema))


class EpisodeSchema(ma.Schema):
    referral = ma.fields.Nested(ReferralSchema)
    service = ma.fields.Nested(ServiceContactSchema)
    specialist = ma.fields.Nested(SpecialistNameSchema, allow_none=True)
    next_appointment = ma.fields.Nested(AppointmentSchema, allow_none=True)
    profile = ma.fields.Nested(VocationalProfileSchema, allow_none=True)
    job_search = ma.fields.Nested(JobSearchSchema)
    jobs = ma.fields.List(ma.fields.Nested(JobSchema))


class JourneySchema(ma.Schema):
    person_id = ma.fields.String()
    episodes = ma.fields.List(ma.fields.Nested(EpisodeSchema))
