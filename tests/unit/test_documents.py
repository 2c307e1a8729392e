"""The one reader of YAML and JSON documents: alias bombs, deep and huge
documents, keys given twice, control characters and values no database
keeps are each one error at file:line:column."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cs_cli.errors import BadInput, FileError
from cs_cli.specs import documents
from cs_cli.specs.documents import MAX_BYTES, MAX_DEPTH, MAX_VALUES, load_json_text, load_yaml_text

# 1.2 KB standing for 10^9 conditions: each level lists the one above ten times.
BOMB = "any:\n  - &a0 {plan: Enterprise}\n" + "".join(
    f"  - &a{i} {{any: [{', '.join([f'*a{i - 1}'] * 10)}]}}\n" for i in range(1, 10)
)


def error_of(text: str) -> str:
    with pytest.raises(FileError) as caught:
        load_yaml_text(text, "doc.yaml")
    return caught.value.message


def test_an_alias_bomb_stops_at_once_at_the_line_where_it_grows_too_big():
    assert len(BOMB) < 1300
    started = time.monotonic()
    message = error_of(BOMB)
    assert time.monotonic() - started < 2
    assert message.startswith("doc.yaml:")
    assert f"more than {MAX_VALUES:,} values (an alias counts all it stands for)" in message


def test_aliases_within_bounds_load_as_before():
    data, _ = load_yaml_text("base: &b {plan: Enterprise}\nany: [*b, *b]\n", "doc.yaml")
    assert data["any"] == [{"plan": "Enterprise"}, {"plan": "Enterprise"}]


def test_merge_keys_still_work():
    data, _ = load_yaml_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n", "doc.yaml")
    assert data["other"] == {"x": 1, "y": 3}


def test_deep_nesting_is_a_clear_error_not_recursion():
    deep = "[" * 100_000 + "]" * 100_000
    message = error_of(deep)
    assert message == f"doc.yaml:1:{MAX_DEPTH + 1}: nested deeper than {MAX_DEPTH} levels"


def test_aliases_chained_deeper_than_the_bound_are_refused():
    lines = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 80)]
    assert "nested deeper than 64 levels (aliases included)" in error_of("\n".join(lines))


def test_a_node_holding_an_alias_to_itself_is_refused():
    assert "an alias stands for a node that holds it (a loop)" in error_of("a: &a [1, *a]\n")


def test_a_document_over_the_size_bound_is_refused_before_parsing(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_text("x: " + "a" * MAX_BYTES)
    with pytest.raises(FileError) as caught:
        documents.load_yaml_file(big)
    assert caught.value.message == f"{big}: larger than {MAX_BYTES:,} bytes ({MAX_BYTES + 3:,})"


def test_a_key_twice_names_both_lines():
    text = "name: card\nweights:\n  usage: 1\nthresholds: {}\nweights:\n  adoption: 1\n"
    assert error_of(text) == "doc.yaml:5:1: key 'weights' given twice (first on line 2)"


def test_a_key_twice_in_a_flow_mapping():
    assert error_of("{a: 1, a: 2}") == "doc.yaml:1:8: key 'a' given twice (first on line 1)"


def test_a_control_character_is_named_at_its_line_and_column():
    assert error_of("a: 1\nb: x\x07y\n") == (
        "doc.yaml:2:5: invalid YAML: control character U+0007 is not allowed"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: .inf", "inf is not a finite number"),
        ("a: -.inf", "-inf is not a finite number"),
        ("a: .nan", "nan is not a finite number"),
        ("a: 1.0e+999", "inf is not a finite number"),
        ("a: " + "9" * 5000, "a whole number of at most 9,223,372,036,854,775,807 either way"),
        ("a: 9223372036854775808", "9223372036854775808 is out of range"),
        ('a: "x\\0y"', "text cannot contain a NUL character"),
        ('a: "\\ud800"', "text is not valid Unicode (a lone surrogate)"),
        ("a: 9999-12-31", "'9999-12-31' is outside the dates cs accepts (1900-01-01 to 2200-12-31)"),
        ("a: 0000-01-01", "'0000-01-01' is not a date"),
        ("a: 2026-02-30", "'2026-02-30' is not a date"),
        ("a: 2200-12-31 23:30:00-05:00", "is outside the dates cs accepts"),
    ],
)
def test_values_no_reader_could_use_are_refused_where_they_are(text, reason):
    message = error_of(text)
    assert message.startswith("doc.yaml:1:4: "), message
    assert reason in message


def test_dates_at_the_ends_of_the_range_load():
    data, _ = load_yaml_text("a: 1900-01-01\nb: 2200-12-31\n", "doc.yaml")
    assert (str(data["a"]), str(data["b"])) == ("1900-01-01", "2200-12-31")


def test_json_text_is_bounded_too():
    with pytest.raises(BadInput, match=r"^--data: nested deeper than 64 levels$"):
        load_json_text("[" * 100_000 + "]" * 100_000, "--data")
    with pytest.raises(BadInput, match=r"^--data: x: inf is not a finite number$"):
        load_json_text('{"x": 1e999}', "--data")
    with pytest.raises(BadInput, match=r"^--data: x: nan is not a finite number$"):
        load_json_text('{"x": NaN}', "--data")
    with pytest.raises(BadInput, match=r"^--data: invalid JSON: Exceeds the limit"):
        load_json_text("9" * 5000, "--data")
    with pytest.raises(BadInput, match=r"^--data: a.1: text cannot contain a NUL character$"):
        load_json_text('{"a": ["ok", "x\\u0000"]}', "--data")
    with pytest.raises(BadInput, match=r"^--data: nested deeper than 64 levels$"):
        load_json_text("[" * 70 + "]" * 70, "--data")
    assert load_json_text('{"a": [1, 2.5, "x"]}', "--data") == {"a": [1, 2.5, "x"]}
