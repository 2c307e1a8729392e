"""The docs cover what the code accepts."""

from pathlib import Path

from cs_cli.services.importers import ENTITIES

DOCS = Path(__file__).parent.parent.parent / "docs"


def test_every_import_column_is_documented():
    text = (DOCS / "importing.md").read_text()
    for entity in ENTITIES.values():
        section = text.split(f"## {entity.name}\n", 1)
        assert len(section) == 2, f"docs/importing.md has no section for {entity.name}"
        body = section[1].split("\n## ", 1)[0]
        for field in entity.fields:
            assert f"| {field.name} " in body or f"| **{field.name}** " in body, (entity.name, field.name)
            if field.required:
                assert f"**{field.name}**" in body, f"{entity.name}.{field.name} is required: mark it bold"
        for alias, target in entity.aliases.items():
            assert alias in body, f"{entity.name}: alias {alias} -> {target} not documented"
