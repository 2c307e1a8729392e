"""One module per screen of the board."""
