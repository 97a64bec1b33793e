"""Service measures with the DOMAIN.md definitions, job-outcome rules and fidelity reviews."""
