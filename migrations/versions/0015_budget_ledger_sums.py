"""budgets.ledger_sums: the ledger's running sums per stream and per plan line lineage,
kept on the budget's row by every posting (budgets/ledger/sums.py), filled from the ledger

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STREAM_SUMS = sa.text(
    "SELECT budget_id, funding_stream_id, account, sum(amount_pence) FROM ledger_entries"
    " GROUP BY budget_id, funding_stream_id, account"
)
_LINEAGE_SUMS = sa.text(
    "SELECT e.budget_id, l.lineage_id, e.account, sum(e.amount_pence)"
    " FROM ledger_entries e JOIN plan_lines l ON l.id = e.plan_line_id"
    " GROUP BY e.budget_id, l.lineage_id, e.account"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # Every posting rewrites a budget's row: free room on its page lets the new
        # version stay there (a HOT update, no new index entries). Pages written from
        # here on keep it, the backfill's included.
        op.execute('ALTER TABLE budgets SET (fillfactor = 80)')
    with op.batch_alter_table('budgets', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('ledger_sums', sa.JSON(), server_default='{}', nullable=False)
        )
    connection = op.get_bind()
    sums: dict[str, dict[str, Any]] = defaultdict(lambda: {"streams": {}, "lines": {}})
    for part, query in (("streams", _STREAM_SUMS), ("lines", _LINEAGE_SUMS)):
        for budget_id, holder_id, account, total in connection.execute(query):
            sums[budget_id][part].setdefault(holder_id, {})[account] = int(total)
    budgets = sa.table('budgets', sa.column('id', sa.String), sa.column('ledger_sums', sa.JSON))
    if sums:
        connection.execute(
            budgets.update().where(budgets.c.id == sa.bindparam('budget_id')),
            [{"budget_id": budget_id, "ledger_sums": value} for budget_id, value in sums.items()],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE budgets RESET (fillfactor)')
    # Not in batch mode: SQLite drops a plain column in place (3.35+), where a batch would
    # copy the table, which the rows referring to budgets forbid.
    op.drop_column('budgets', 'ledger_sums')
