"""Import the project's Superset assets (run by .venv-bi's Python, inside Superset's app).

Usage: superset_load.py BUNDLE_DIR. The bundle is Superset's own export format (metadata.yaml,
databases/, datasets/, charts/, dashboards/) as `bi.superset.bundle` writes it; the warehouse
password comes from SUPERSET_WAREHOUSE_PASSWORD, never from a file or the command line.
Importing again overwrites the assets with the files. Every dataset's columns are then read
from the warehouse, so the files list only what PostgreSQL cannot tell (metrics, labels)."""

import os
import sys
from pathlib import Path


def main(bundle: Path) -> None:
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


if __name__ == "__main__":
    main(Path(sys.argv[1]))
