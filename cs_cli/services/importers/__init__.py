"""Importing the book of business from CSV and JSONL exports."""

from cs_cli.services.importers.entities import ENTITIES
from cs_cli.services.importers.job import Reject
from cs_cli.services.importers.mapping import ImportMap, load_map
from cs_cli.services.importers.reading import SourceFormat
from cs_cli.services.importers.runner import ImportResult, import_file

__all__ = ["ENTITIES", "ImportMap", "ImportResult", "Reject", "SourceFormat", "import_file", "load_map"]
