"""Jump to any customer you may see from any screen: a source for the
command palette (ctrl+p, or `g`) that looks customers up by name or
external id as you type, and opens the one you pick in Customer 360."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import Hit, Hits, Provider


class CustomerFinder(Provider):
    """Customers whose name or external id holds what is typed, in order."""

    async def search(self, query: str) -> Hits:
        from cs_cli.services.customers import customer_matches

        if not query.strip():
            return
        app = self.app
        found = await asyncio.to_thread(app.db.call, customer_matches, query)
        matcher = self.matcher(query)
        for external_id, name in found:
            text = f"{name} ({external_id})"
            # The database found it; the matcher only ranks and highlights.
            score = max(matcher.match(text), 0.01)
            yield Hit(
                score,
                matcher.highlight(text),
                partial(app.open_customer, external_id),
                text=text,
                help="Open in Customer 360",
            )
