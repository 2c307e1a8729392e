"""Automation: the event triggers of the plan's section 8.2 as rules in a YAML
file (config), applied to the domain event log with one durable cursor per
rule (run), and the daily scan that records customer.renewal_within (run).
Each action is set-based per batch of events (actions)."""
