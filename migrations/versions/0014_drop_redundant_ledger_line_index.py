"""ledger_entries: drop ix_ledger_entries_plan_line_id, which ix_ledger_entries_line_account
(plan_line_id, account) already serves

Every lookup by plan line can use the wider index's leading column, so the narrow one
only cost each posting an extra index insert (a booking posts two).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_ledger_entries_plan_line_id', table_name='ledger_entries')


def downgrade() -> None:
    op.create_index(
        'ix_ledger_entries_plan_line_id', 'ledger_entries', ['plan_line_id'], unique=False
    )
