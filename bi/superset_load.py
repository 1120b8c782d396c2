"""Import the project's Superset assets (run by .venv-bi's Python, inside Superset's app).

Usage: superset_load.py BUNDLE_DIR [--wait]. The bundle is Superset's own export format
(metadata.yaml, databases/, datasets/, charts/, dashboards/) as `bi.dashboards.bundle`
writes it; the warehouse password comes from SUPERSET_WAREHOUSE_PASSWORD, never from a
file or the command line. Importing again overwrites the assets with the files. Every
dataset's columns are then read from the warehouse, so the files list only what PostgreSQL
cannot tell (metrics, labels): before the first publish there is nothing to read, so the
import refuses, or with --wait (a container started with the warehouse) waits for it."""

import os
import sys
import time
from pathlib import Path

import yaml

PUBLICATION = ("reporting", "publication")


def main(bundle: Path, wait: bool) -> None:
    _await_publication(bundle, wait)
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from flask import g
        from superset import db, security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.connectors.sqla.models import SqlaTable

        g.user = _admin(security_manager)
        contents = {
            str(path.relative_to(bundle)): path.read_text(encoding="utf-8")
            for path in sorted(bundle.rglob("*.yaml"))
        }
        password = os.environ["SUPERSET_WAREHOUSE_PASSWORD"]
        passwords = {name: password for name in contents if name.startswith("databases/")}
        ImportAssetsCommand(contents, passwords=passwords).run()
        for dataset in db.session.query(SqlaTable).all():
            dataset.fetch_metadata()
        db.session.commit()
        print(f"imported {len(contents)} files from {bundle}")


def _admin(security_manager):
    """The admin user, created on first import; its password is the one in its file."""
    name = os.environ["SUPERSET_ADMIN_USER"]
    password = Path(os.environ["SUPERSET_ADMIN_PASSWORD_FILE"]).read_text().strip()
    user = security_manager.find_user(username=name)
    if user is None:
        user = security_manager.add_user(
            name,
            "Scorecards",
            "Admin",
            f"{name}@localhost",
            security_manager.find_role("Admin"),
            password=password,
        )
    else:
        security_manager.reset_password(user.id, password)
    return user


def _await_publication(bundle: Path, wait: bool) -> None:
    """Return once `reporting` has been published, as the BI role sees it."""
    import sqlalchemy

    (database,) = (bundle / "databases").glob("*.yaml")
    uri = yaml.safe_load(database.read_text(encoding="utf-8"))["sqlalchemy_uri"]
    url = sqlalchemy.engine.make_url(uri).set(password=os.environ["SUPERSET_WAREHOUSE_PASSWORD"])
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    schema, table = PUBLICATION
    while True:
        try:
            with engine.connect() as conn:
                if sqlalchemy.inspect(conn).has_table(table, schema=schema):
                    return
                reason = "nothing is published yet (run the daily DAG first)"
        except sqlalchemy.exc.OperationalError as error:
            reason = f"cannot log in to the warehouse as the BI role: {error.orig}"
        if not wait:
            raise SystemExit(f"cannot import the dashboards: {reason}")
        print(f"waiting for the first publish: {reason}", flush=True)
        time.sleep(30)


if __name__ == "__main__":
    main(Path(sys.argv[1]), wait="--wait" in sys.argv[2:])
