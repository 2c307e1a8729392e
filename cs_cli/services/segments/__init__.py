"""Segments: rule-defined (dynamic), hand-picked (static) and model-made groups of customers."""
