"""The task board's widgets: cards and columns."""
