"""One customer's history: the parts, each in its own module, put together and run
in a fixed order."""

from __future__ import annotations

from cs_cli.services.demo.invoices import Invoices
from cs_cli.services.demo.nps import Nps
from cs_cli.services.demo.tasks import Tasks
from cs_cli.services.demo.tickets import Tickets
from cs_cli.services.demo.touchpoints import Touchpoints
from cs_cli.services.demo.usage import Usage


class Activity(Usage, Tickets, Invoices, Nps, Touchpoints, Tasks):
    """One customer's history over the window, from its own random stream."""

    def run(self) -> None:
        # Every part draws from the one stream, and touchpoints and tasks read what the
        # tickets left behind: this order is part of the output, like the seed.
        self.usage()
        self.tickets()
        self.invoices()
        self.nps()
        self.touchpoints()
        self.tasks()
