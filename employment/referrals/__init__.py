"""Referrals onto an IPS service: joining, the caseload, contacts and appointments."""
