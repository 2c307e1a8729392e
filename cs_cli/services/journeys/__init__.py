"""Journeys: YAML programs of steps that customers are enrolled in."""
