"""Alembic environment: the engine comes from ``grid_model.db`` (config.attributes['engine'])
or from GRIDLAW_DATABASE_URL. Batch mode only on SQLite, as GeoAlchemy2 recommends."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from grid_model import db
from grid_model.models import Base

config = context.config


def _include_object(obj, name, type_, reflected, compare_to):
    # SpatiaLite's and PostGIS's own tables are not ours to migrate.
    if type_ == "table" and reflected and compare_to is None:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


engine = config.attributes.get("engine") or db.make_engine()

with engine.connect() as connection:
    sqlite = db.is_sqlite(engine)
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        include_object=_include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
