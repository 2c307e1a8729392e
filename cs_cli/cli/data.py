"""`cs import` and `cs export`."""
def import_() -> None:
    """Import."""
def export() -> None:
    """Export."""
