"""HTML reports as PDF, with WeasyPrint (the optional `pdf` extra; it lays
out with the Pango library of the operating system).

The reports are self-contained (charts are inline SVG), so nothing needs
fetching; a user's QBR template might still name an image or a style sheet
by URL, and a report must never reach the network or read the disk for it:
every fetch but an inline `data:` URL is refused, and the part is left out.
"""

from __future__ import annotations

from cs_cli.errors import CsError

INSTALL = "pip install 'cs[pdf]' (WeasyPrint; it needs the Pango library, e.g. Debian's libpango-1.0-0)"


class PdfUnavailable(CsError):
    """WeasyPrint or the Pango library is missing. Exit code 1."""


def to_pdf(html: str) -> bytes:
    """The PDF of an HTML document, fetching nothing but `data:` URLs."""
    import logging
    import warnings

    try:
        with warnings.catch_warnings():
            # Its notice that a future version will need HarfBuzz-Subset
            # is for whoever installs the system libraries, not for a report.
            warnings.simplefilter("ignore", DeprecationWarning)
            import weasyprint
            from weasyprint.urls import URLFetcher
    except ImportError:
        raise PdfUnavailable(f"--pdf needs WeasyPrint: {INSTALL}") from None
    except OSError as exc:  # WeasyPrint is there, the system library is not
        raise PdfUnavailable(f"--pdf needs the Pango library ({exc}): {INSTALL}") from None

    # WeasyPrint logs each CSS property it does not support and each refused
    # fetch as a warning; the report is still right, and cron mail is not
    # the place for them.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    inline_only = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    return weasyprint.HTML(string=html, url_fetcher=inline_only, base_url=None).write_pdf()
