"""Health scores: measures, scoring, recalculation and reading."""
