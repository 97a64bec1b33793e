"""The employment (IPS) API: every sub-package's routes on one blueprint."""

from __future__ import annotations

from employment import rates_routes
from employment.api import blp
from employment.casework import routes as casework_routes
from employment.jobs import routes as job_routes
from employment.journey import routes as journey_routes
from employment.metrics import routes as metrics_routes
from employment.provision import routes as provision_routes
from employment.referrals import routes as referral_routes

__all__ = [
    "blp",
    "casework_routes",
    "job_routes",
    "journey_routes",
    "metrics_routes",
    "provision_routes",
    "rates_routes",
    "referral_routes",
]
