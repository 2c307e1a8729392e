"""cs: customer-success operations for enterprise and VIP accounts."""

__version__ = "0.1.0"
