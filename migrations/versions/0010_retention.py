"""retention: pseudonymisation records; audit rows deletable only after their floor period

Revision ID: 0010
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The database refuses to delete any audit row younger than this, whatever the
# application's configuration says: retention may keep rows longer, never shorter.
AUDIT_FLOOR = "6 years"


def upgrade() -> None:
    op.create_table('pseudonymisations',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('pseudonymised_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_pseudonymisations_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pseudonymisations')),
    sa.UniqueConstraint('person_id', name=op.f('uq_pseudonymisations_person_id'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE OR REPLACE FUNCTION audit_entries_are_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND OLD.occurred_at < now() - interval '{AUDIT_FLOOR}' THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            CREATE OR REPLACE FUNCTION audit_entries_are_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
        """)
    op.drop_table('pseudonymisations')
