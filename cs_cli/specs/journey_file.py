"""A journey file read and checked: its schema (journey.py), its graph
(journey_graph.py) and its texts (each template must exist, read only known
fields and render in the sandbox), with every error at its file, line,
column and key path."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cs_cli.errors import BadInput, FileError, TemplateError
from cs_cli.specs import journey_graph
from cs_cli.specs.journey import (
    KEY_PATTERN,
    TEMPLATE_TEXTS,
    EmailStep,
    JourneySpec,
    StartJourneyStep,
    StepType,
)


@dataclass(frozen=True)
class JourneyFile:
    """A checked journey, where it came from, and the email templates it uses."""

    spec: JourneySpec
    path: Path
    root: Any  # the YAML node tree, for line numbers
    templates: dict[str, Any] = field(default_factory=dict)  # name -> templates.emails.EmailTemplate

    @property
    def key(self) -> str:
        assert self.spec.key is not None
        return self.spec.key

    def position(self, *keys: str | int) -> tuple[int | None, int | None]:
        return position(self.root, keys)

    def has(self, *keys: str | int) -> bool:
        """Whether the file spells out this key path."""
        import yaml

        node = self.root
        for part in keys:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            elif (
                isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value)
            ):
                node = node.value[part]
            else:
                return False
            if node is None:
                return False
        return True

    def error(self, keys: tuple[Any, ...], reason: str, *, hint: str | None = None) -> FileError:
        line, column = self.position(*keys)
        where = ".".join(str(k) for k in keys)
        return FileError(str(self.path), line, column, f"{where}: {reason}" if where else reason, hint=hint)

    def canonical(self) -> dict[str, Any]:
        """The spec's canonical form plus the source of each email template it uses."""
        data = self.spec.canonical()
        if self.templates:
            data["templates"] = {
                name: {k: v for k, v in (("text", t.text), ("html", t.html)) if v is not None}
                for name, t in sorted(self.templates.items())
            }
        return data

    def content_hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def templates_folder(path: Path) -> Path:
    """Where a journeys folder (or a journey file's folder) keeps its own
    templates: `templates/` beside the journey files."""
    return (path if path.is_dir() else path.parent) / "templates"


def load_journey(path: Path, *, templates: Path | None = None) -> JourneyFile:
    """Read and check one journey file: its schema, its graph, and each
    template (it must exist, parse, read only known fields and render in the
    sandbox). `templates`: the extra templates folder (default: the one
    beside the file)."""
    from cs_cli.specs.loader import load_yaml

    data, root = load_yaml(path)
    if not isinstance(data, dict):
        raise FileError(str(path), 1, 1, "a journey file is a mapping with `steps:` (and `key:`, `name:`...)")
    spec = _validate(path, data, root)
    if spec.key is None:
        if not re.match(KEY_PATTERN, path.stem):
            raise FileError(
                str(path),
                1,
                1,
                f"the file name '{path.stem}' is not a journey key (a-z, 0-9, _): add `key: KEY`",
            )
        spec = spec.model_copy(update={"key": path.stem})
    file = JourneyFile(spec=spec, path=path, root=root)
    journey_graph.check(spec, file.error)
    used = _check_texts(file, templates if templates is not None else templates_folder(path))
    return JourneyFile(spec=spec, path=path, root=root, templates=used)


def load_folder(path: Path) -> tuple[list[JourneyFile], list[BadInput]]:
    """Every journey of a folder (`*.yaml`, `*.yml`), or the one file named,
    and the errors found: at most one per file, keys used twice, and (for a
    folder) start_journey steps naming a journey the folder lacks."""
    if path.is_dir():
        paths = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    elif path.exists():
        paths = [path]
    else:
        raise BadInput(f"{path}: no such file or folder")
    extra = templates_folder(path)
    files: list[JourneyFile] = []
    errors: list[BadInput] = []
    for p in paths:
        try:
            files.append(load_journey(p, templates=extra))
        except BadInput as exc:
            errors.append(exc)
    first: dict[str, JourneyFile] = {}
    for f in files:
        if f.key in first:
            line, column = f.position("key")
            errors.append(
                FileError(str(f.path), line, column, f"journey '{f.key}' is also in {first[f.key].path}")
            )
        else:
            first[f.key] = f
    if path.is_dir():
        for f in files:
            for index, step in enumerate(f.spec.steps):
                if isinstance(step, StartJourneyStep) and step.journey not in first:
                    errors.append(
                        f.error(
                            ("steps", index, "journey"),
                            f"there is no journey '{step.journey}' in {path}",
                        )
                    )
                    break
    return files, errors


def position(root: Any, keys: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """Line and column (from 1) of `keys` in the YAML node tree: of the key
    itself when the path ends at a key of a mapping, else of the value (or
    of the deepest part of the path that exists)."""
    import yaml

    from cs_cli.specs.loader import position_of

    node = root
    for i, part in enumerate(keys):
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if pair is None:
                break
            if i == len(keys) - 1:
                return pair[0].start_mark.line + 1, pair[0].start_mark.column + 1
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
    return position_of(root, keys)


def _validate(path: Path, data: Any, root: Any) -> JourneySpec:
    """`data` as a JourneySpec; the first error names file, line, column and key path."""
    try:
        return JourneySpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = list(error["loc"])
        # A discriminated union puts the tag in the path: steps.0.email.subject.
        if (
            len(loc) >= 3
            and loc[0] == "steps"
            and isinstance(loc[1], int)
            and loc[2] in StepType.__members__.values()
        ):
            del loc[2]
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "union_tag_invalid":
            loc.append("type")
            tag = error.get("ctx", {}).get("tag")
            message = f"unknown step type '{tag}' (one of {', '.join(t.value for t in StepType)})"
        elif error["type"] == "union_tag_not_found":
            loc.append("type")
            message = f"every step needs a type (one of {', '.join(t.value for t in StepType)})"
        elif error["type"] == "extra_forbidden":
            message = "unknown key"
        elif ": " in message and " " not in message.split(": ", 1)[0]:
            # A check across keys names its own path below where it runs.
            keys_text, message = message.split(": ", 1)
            loc += [int(p) if p.isdigit() else p for p in keys_text.split(".")]
        if (
            len(loc) >= 2
            and loc[0] in ("goal", "exit_when")
            and loc[1] == "rules"
            and isinstance(data.get(loc[0]), dict)
            and "rules" not in data[loc[0]]
        ):
            del loc[1]  # the shorthand: the criteria are a rule document
        keys = ".".join(str(p) for p in loc) or "(top level)"
        line, column = position(root, tuple(loc))
        raise FileError(str(path), line, column, f"{keys}: {message}") from None


def _check_texts(file: JourneyFile, extra: Path) -> dict[str, Any]:
    """Check every template of the journey; returns the email templates used, by name."""
    from cs_cli.templates import emails

    used: dict[str, Any] = {}
    for index, step in enumerate(file.spec.steps):
        for key in TEMPLATE_TEXTS.get(StepType(step.type), ()):
            text = getattr(step, key)
            if text:
                _check_inline(file, text, ("steps", index, key))
        if isinstance(step, EmailStep):
            where = ("steps", index, "template")
            try:
                template = emails.find(step.template, extra)
            except TemplateError as exc:
                raise file.error(where, exc.message) from None
            if template is None:
                known = ", ".join(emails.available(extra)) or "none"
                raise file.error(
                    where,
                    f"no email template '{step.template}' (known: {known})",
                    hint=f"add {step.template}.txt.j2 (and .html.j2) under {extra / 'emails'}",
                )
            for part, text in (("text", template.text), ("html", template.html)):
                if text is None:
                    continue
                try:
                    emails.check(text, template.label(part), html=part == "html")
                except TemplateError as exc:
                    raise file.error(where, exc.message) from None
            used[step.template] = template
    return used


def _check_inline(file: JourneyFile, text: str, keys: tuple[Any, ...]) -> None:
    """A template written in the journey file; an error points at its line there."""
    from cs_cli.specs.loader import _node_at
    from cs_cli.templates import emails

    where = ".".join(str(k) for k in keys)
    try:
        emails.check(text, where)
    except TemplateError as exc:
        node = _node_at(file.root, keys)
        line = column = None
        if node is not None:
            block = getattr(node, "style", None) in ("|", ">")
            line = node.start_mark.line + 1 + (1 if block else 0) + ((exc.line or 1) - 1)
            column = node.start_mark.column + 1
            if block:
                source = file.path.read_text(encoding="utf-8").splitlines()
                if line - 1 < len(source):
                    row = source[line - 1]
                    column = len(row) - len(row.lstrip()) + 1
        raise FileError(str(file.path), line, column, f"{where}: {exc.reason}") from None
