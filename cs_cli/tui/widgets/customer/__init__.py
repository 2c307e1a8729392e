"""Widgets of Customer 360, and the formats the customer-facing screens share."""
