"""Playbooks: YAML specs synced into the database, runs and their tasks."""
