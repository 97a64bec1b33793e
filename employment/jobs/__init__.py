"""Employers, job development, jobs and in-work (follow-along) support."""
