"""directory search without per-row work: stored tsvectors with GIN indexes, an index on the register's coordinates

Revision ID: 0018_directory_search_index
Revises: 0017_dsgvo_erasure_retention
Create Date: 2026-12-04 03:00:00

The Börse's free text used to build ``to_tsvector`` of title, summary and every
cooperation's aggregated partner names on each search (a scan of all partners), and the
Umkreis compared the coordinates cast to float (no index). Now:

- cooperation_listing.search_vector (PostgreSQL): the German tsvector of title (weight A),
  public summary (B) and the active partners' names (C), kept by triggers on the listing,
  the cooperation's title, its partners and a municipality's name; GIN index.
  A partner whose leaving date passes stays in the vector until the next change of that
  cooperation (the result rows show only active partners either way).
- register_association.search_vector (PostgreSQL): generated from name (A) and member
  names (C); GIN index.
- municipality (breitengrad, laengengrad) and register_association (breitengrad,
  laengengrad): btree indexes for the Umkreis' bounding box; municipality (land, kreis)
  for the filter form's Land/Kreis pickers (an index-only scan instead of sorting the register).
SQLite gets the columns and indexes (unused, NULL) so models and schema agree; its text search stays
the simple per-row fallback.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0018_directory_search_index'
down_revision = '0017_dsgvo_erasure_retention'
branch_labels = None
depends_on = None

LISTING_FUNCTIONS = """
CREATE OR REPLACE FUNCTION cooperation_listing_vector(coop integer, summary text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('german', coalesce((SELECT title FROM cooperation WHERE id = coop), '')), 'A')
        || setweight(to_tsvector('german', coalesce(summary, '')), 'B')
        || setweight(to_tsvector('german', coalesce((
               SELECT string_agg(m.name, ' ' ORDER BY m.name)
               FROM cooperation_partner p JOIN municipality m ON m.id = p.municipality_id
               WHERE p.cooperation_id = coop AND (p.left_on IS NULL OR p.left_on > current_date)
           ), '')), 'C')
$$;

CREATE OR REPLACE FUNCTION cooperation_listing_refresh(coop integer) RETURNS void
LANGUAGE sql AS $$
    UPDATE cooperation_listing SET search_vector = cooperation_listing_vector(cooperation_id, summary)
    WHERE cooperation_id = coop
$$;

CREATE OR REPLACE FUNCTION cooperation_listing_set_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := cooperation_listing_vector(NEW.cooperation_id, NEW.summary);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION cooperation_listing_after_title() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cooperation_listing_refresh(NEW.id);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cooperation_listing_after_partner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM cooperation_listing_refresh(OLD.cooperation_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.cooperation_id <> OLD.cooperation_id) THEN
        PERFORM cooperation_listing_refresh(NEW.cooperation_id);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cooperation_listing_after_municipality_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cooperation_listing SET search_vector = cooperation_listing_vector(cooperation_id, summary)
    WHERE cooperation_id IN (SELECT cooperation_id FROM cooperation_partner WHERE municipality_id = NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER cooperation_listing_vector BEFORE INSERT OR UPDATE OF summary, cooperation_id
    ON cooperation_listing FOR EACH ROW EXECUTE FUNCTION cooperation_listing_set_vector();
CREATE TRIGGER cooperation_listing_title AFTER UPDATE OF title ON cooperation
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title)
    EXECUTE FUNCTION cooperation_listing_after_title();
CREATE TRIGGER cooperation_listing_partner AFTER INSERT OR UPDATE OR DELETE ON cooperation_partner
    FOR EACH ROW EXECUTE FUNCTION cooperation_listing_after_partner();
CREATE TRIGGER cooperation_listing_municipality_name AFTER UPDATE OF name ON municipality
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION cooperation_listing_after_municipality_name();
"""

DROP_LISTING_FUNCTIONS = """
DROP TRIGGER IF EXISTS cooperation_listing_municipality_name ON municipality;
DROP TRIGGER IF EXISTS cooperation_listing_partner ON cooperation_partner;
DROP TRIGGER IF EXISTS cooperation_listing_title ON cooperation;
DROP TRIGGER IF EXISTS cooperation_listing_vector ON cooperation_listing;
DROP FUNCTION IF EXISTS cooperation_listing_after_municipality_name();
DROP FUNCTION IF EXISTS cooperation_listing_after_partner();
DROP FUNCTION IF EXISTS cooperation_listing_after_title();
DROP FUNCTION IF EXISTS cooperation_listing_set_vector();
DROP FUNCTION IF EXISTS cooperation_listing_refresh(integer);
DROP FUNCTION IF EXISTS cooperation_listing_vector(integer, text);
"""

REGISTER_VECTOR = (
    "setweight(to_tsvector('german'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('german'::regconfig, coalesce(member_names, '')), 'C')"
)


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    vector = postgresql.TSVECTOR() if postgres else sa.Text()
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.create_index('ix_municipality_coordinates', ['breitengrad', 'laengengrad'], unique=False)
        batch_op.create_index('ix_municipality_land_kreis', ['land', 'kreis'], unique=False)
    with op.batch_alter_table('register_association', schema=None) as batch_op:
        batch_op.create_index('ix_register_association_coordinates', ['breitengrad', 'laengengrad'], unique=False)
    if postgres:
        op.add_column('register_association', sa.Column(
            'search_vector', vector, sa.Computed(REGISTER_VECTOR, persisted=True), nullable=True))
        op.add_column('cooperation_listing', sa.Column('search_vector', vector, nullable=True))
        op.execute(LISTING_FUNCTIONS)
        op.execute("UPDATE cooperation_listing SET search_vector = cooperation_listing_vector(cooperation_id, summary)")
    else:
        with op.batch_alter_table('register_association', schema=None) as batch_op:
            batch_op.add_column(sa.Column('search_vector', vector, nullable=True))
        with op.batch_alter_table('cooperation_listing', schema=None) as batch_op:
            batch_op.add_column(sa.Column('search_vector', vector, nullable=True))
    op.create_index('ix_register_association_search_vector', 'register_association', ['search_vector'], postgresql_using='gin')
    op.create_index('ix_cooperation_listing_search_vector', 'cooperation_listing', ['search_vector'], postgresql_using='gin')


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_index('ix_cooperation_listing_search_vector', table_name='cooperation_listing')
    op.drop_index('ix_register_association_search_vector', table_name='register_association')
    if postgres:
        op.execute(DROP_LISTING_FUNCTIONS)
    with op.batch_alter_table('cooperation_listing', schema=None) as batch_op:
        batch_op.drop_column('search_vector')
    with op.batch_alter_table('register_association', schema=None) as batch_op:
        batch_op.drop_column('search_vector')
        batch_op.drop_index('ix_register_association_coordinates')
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_index('ix_municipality_land_kreis')
        batch_op.drop_index('ix_municipality_coordinates')
