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


def test_every_limit_in_the_code_is_in_limits_md():
    import importlib

    from cs_cli import dates
    from cs_cli.services.importers import expressions, reading, values
    from cs_cli.specs import documents

    parse = importlib.import_module("cs_cli.rules.parse")  # the package exports a function of that name
    text = (DOCS / "limits.md").read_text()
    for number in (
        documents.MAX_BYTES,
        documents.MAX_DEPTH,
        documents.MAX_VALUES,
        documents.MAX_INT,
        reading.MAX_JSONL_LINE,
        values.MAX_NESTING,
        values.INT32_MAX,
        expressions.MAX_LENGTH,
        expressions.MAX_DEPTH,
        parse.MAX_LIST,
        parse.MAX_TEXT,
        parse.MAX_DAYS,
        parse.MAX_DEPTH,
    ):
        assert f"{number:,}" in text or f" {number} " in text, number
    from cs_cli.templates import sandbox, static, worker

    for number in (sandbox.MAX_ITEMS, sandbox.MAX_DIGITS, sandbox.MAX_OUTPUT, static.MAX_LOOP_ITEMS):
        assert f"{number:,}" in text, number
    assert f"{worker.RENDER_SECONDS:g} s" in text
    assert f"{static.MAX_LOOP_DEPTH} deep" in text
    assert dates.RANGE in text
    for doc in ("importing.md", "../README.md"):
        assert "limits.md" in (DOCS / doc).read_text(), doc
