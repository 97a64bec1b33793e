"""performance: covering indexes for the ledger sums every balance and booking reads

Revision ID: 0011
Revises: 0007

Balances, commitments and statements sum postings per (budget, stream, account) and per
(plan line, account). With `amount_pence` included, PostgreSQL answers those sums from the
index alone (an index-only scan) instead of visiting one heap page per posting, which is
what keeps them flat as the ledger grows to millions of rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_ledger_entries_budget_stream_account',
        'ledger_entries',
        ['budget_id', 'funding_stream_id', 'account'],
        unique=False,
        postgresql_include=['amount_pence'],
    )
    op.create_index(
        'ix_ledger_entries_line_account',
        'ledger_entries',
        ['plan_line_id', 'account'],
        unique=False,
        postgresql_include=['amount_pence'],
    )


def downgrade() -> None:
    op.drop_index('ix_ledger_entries_line_account', table_name='ledger_entries')
    op.drop_index('ix_ledger_entries_budget_stream_account', table_name='ledger_entries')
