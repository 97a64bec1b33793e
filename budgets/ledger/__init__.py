"""The budget ledger: double-entry, append-only postings in integer pence, from which every
balance is computed. Other packages (bookings, payments) move money only through
`budgets.ledger.service`."""
