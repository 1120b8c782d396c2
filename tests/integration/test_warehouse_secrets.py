"""Access to the embedded PostgreSQL needs the role's password (scram-sha-256), and the
personal-data hashing key reaches dbt's sessions as a setting, not as SQL text.

Each embedded server here is one of the test's own, started as the project starts it
(`warehouse.embedded.start`); no password is given to libpq but the one in the URL.
"""

from __future__ import annotations

import hashlib
import stat
from urllib.parse import urlparse

import psycopg
import pytest

from warehouse import embedded
from warehouse.connection import libpq_url, session_options


@pytest.fixture(autouse=True)
def no_other_password_source(monkeypatch, tmp_path):
    """libpq would fall back on PGPASSWORD or ~/.pgpass: neither may answer for the URL."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("auth") / "pgdata"
    url = embedded.start(data_dir, cleanup_mode="delete")
    yield data_dir, url
    embedded.stop(data_dir)


def _refused(url: str, user: str, password: str) -> str:
    with pytest.raises(psycopg.OperationalError) as refusal:
        psycopg.connect(embedded.with_password(url, user, password)).close()
    return str(refusal.value)


def _current_user(url: str, user: str, password: str) -> str:
    with psycopg.connect(embedded.with_password(url, user, password)) as conn:
        return conn.execute("select current_user").fetchone()[0]


def test_a_wrong_password_is_refused_for_the_superuser_and_the_bi_role(server, monkeypatch):
    from publish.tables import grant_bi_reader

    data_dir, url = server
    kept = embedded.password_file(data_dir)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    superuser_password = kept.read_text()
    assert len(superuser_password) == 64 and urlparse(url).password == superuser_password
    monkeypatch.delenv("BI_READER_ROLE", raising=False)
    monkeypatch.setenv("BI_READER_PASSWORD", "bi-password-of-this-test")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema reporting")
        grant_bi_reader(conn)
    for user, password in (
        ("postgres", superuser_password),
        ("bi_reader", "bi-password-of-this-test"),
    ):
        refusal = _refused(url, user, "not-the-password")
        assert f'password authentication failed for user "{user}"' in refusal
        no_password = embedded.with_password(url, user, "").replace(":@", "@")
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            psycopg.connect(no_password).close()
        assert _current_user(url, user, password) == user
    with psycopg.connect(url) as conn:
        methods = conn.execute("select distinct auth_method from pg_hba_file_rules").fetchall()
    assert methods == [("scram-sha-256",)]


def test_a_trust_cluster_of_an_older_version_is_converted_when_started(tmp_path):
    """As pgserver made it (trust: any password works), running, with a BI role that has a
    password: the next start attaches to it, sets the superuser's password, rewrites
    pg_hba.conf and reloads; from then on only the real passwords are accepted."""
    import pgserver

    data_dir = tmp_path / "pgdata"
    before = pgserver.get_server(str(data_dir), cleanup_mode="delete").get_uri()
    try:
        with psycopg.connect(before, autocommit=True) as conn:
            conn.execute("create role bi_reader login password 'bi-password'")
        assert _current_user(before, "postgres", "anything") == "postgres"
        assert _current_user(before, "bi_reader", "anything") == "bi_reader"

        url = embedded.start(data_dir)
        password = embedded.password_file(data_dir).read_text()
        assert "password authentication failed" in _refused(url, "postgres", "anything")
        assert "password authentication failed" in _refused(url, "bi_reader", "anything")
        assert _current_user(url, "postgres", password) == "postgres"
        assert _current_user(url, "bi_reader", "bi-password") == "bi_reader"
        assert (data_dir / "pg_hba.conf").read_text() == embedded.PG_HBA
        assert embedded.start(data_dir) == url  # converted once: the next start only attaches
    finally:
        embedded.stop(data_dir)
    assert not data_dir.exists()


def test_the_hashing_key_is_a_session_setting_given_by_pgoptions(warehouse_url, monkeypatch):
    """dbt's sessions get the key through PGOPTIONS; libpq splits options at spaces, so a
    key with spaces, backslashes, quotes and '=' must arrive whole. The hash is
    sha256(key || ':' || trimmed value), as before the key left the SQL."""
    key = "a key\\with 'quotes'=and-dashes"
    monkeypatch.setenv("PII_HASH_KEY", key)
    monkeypatch.delenv("PGOPTIONS", raising=False)
    with (
        psycopg.connect(libpq_url(warehouse_url)) as conn,
        pytest.raises(psycopg.errors.UndefinedObject),  # no key: hashing fails loudly
    ):
        conn.execute("select current_setting('ccp.pii_hash_key')")
    monkeypatch.setenv("PGOPTIONS", session_options())
    with psycopg.connect(libpq_url(warehouse_url)) as conn:
        setting, hashed = conn.execute(
            "select current_setting('ccp.pii_hash_key'), encode(sha256(convert_to("
            "current_setting('ccp.pii_hash_key') || ':' || trim('  +86 138 0000 1111 '),"
            " 'UTF8')), 'hex')"
        ).fetchone()
    assert setting == key
    assert hashed == hashlib.sha256(f"{key}:+86 138 0000 1111".encode()).hexdigest()
