"""Personal health budgets: funding, care and support plans, the ledger, providers and offers,
bookings, claims and payments."""
