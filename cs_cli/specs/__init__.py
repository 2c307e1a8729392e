"""Typed models of the YAML files admins keep in git (scorecards, and later
playbooks and journeys), and the loader that reports errors by file and line."""
