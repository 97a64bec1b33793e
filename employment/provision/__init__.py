"""IPS services run by verified providers, their employment specialists and caseloads."""
