"""The support broker's caseload: plans awaiting a decision, reviews due, spending alerts."""
