"""Every raw contract is documented in mappings/README.md: each table, its day field and
each of its fields with its kind, so a center writing a mapping reads what the landing
checks."""

from extractors.contracts import CONTRACTS, DAY_FIELDS
from tests.conftest import REPO_ROOT


def test_every_contract_field_is_in_the_mappings_readme():
    readme = (REPO_ROOT / "mappings" / "README.md").read_text()
    sections = readme.split("#### `raw.")[1:]
    documented = {s.split("`", 1)[0]: s for s in sections}
    assert set(documented) == set(CONTRACTS)
    for table, fields in CONTRACTS.items():
        section = documented[table]
        if table in DAY_FIELDS:
            assert f"Day field: `{DAY_FIELDS[table]}`" in section
        for f in fields:
            kind = f.kind + (", required" if f.required else "")
            assert f"| {f.name} | {kind}" in section, (table, f.name)
