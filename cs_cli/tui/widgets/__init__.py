"""Widgets of the board, grouped by feature."""
