"""`cs board`: the CSM's terminal board (Textual). Screens under screens/,
widgets under widgets/, styling in app.tcss; every read and write goes
through the same services as the command line, on worker threads."""
