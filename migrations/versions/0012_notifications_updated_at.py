"""notifications: updated_at, so the feed can be delta-synced (read / unread are changes)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE notifications SET updated_at = COALESCE(read_at, created_at)")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=app.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index(
            'ix_notifications_user_id_updated_at_id', ['user_id', 'updated_at', 'id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id_updated_at_id')
        batch_op.drop_column('updated_at')
