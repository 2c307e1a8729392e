"""CS tasks: the state machine and its changes (lifecycle), set-based changes
over IDs or a filter (bulk), listings and the task card (views), and which
tasks an actor may see and act on (selection)."""
