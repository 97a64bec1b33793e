"""ledger_entries: drop ix_ledger_entries_transaction_id and ix_ledger_entries_cause,
which no query uses

Postings are read by budget (balances, statements, which group a transaction's legs in
Python) and by plan line, each through its own index. Every posting paid for these two on
insert: a booking posts two rows, so four index entries, and at the bench's full size
they took 280 MB beside the table.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_ledger_entries_transaction_id', table_name='ledger_entries')
    op.drop_index('ix_ledger_entries_cause', table_name='ledger_entries')


def downgrade() -> None:
    op.create_index('ix_ledger_entries_cause', 'ledger_entries', ['cause_type', 'cause_id'])
    op.create_index('ix_ledger_entries_transaction_id', 'ledger_entries', ['transaction_id'])
