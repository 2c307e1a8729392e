"""`cs report book`: a self-contained HTML (and Markdown) report whose
tables and charts hold the analytics' numbers; with no data it still
renders."""

from __future__ import annotations

from html.parser import HTMLParser


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.titles: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.titles.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def test_the_book_report_as_html_and_markdown(run_cli, dated_book, tmp_path):
    html, md = tmp_path / "book.html", tmp_path / "book.md"
    args = ("report", "book", "--from", "2026-01-01", "--to", "2026-02-28", "--plan", "Growth")
    result = run_cli(*args, "--html", html, "--markdown", md)
    assert result.exit_code == 0, result.stderr
    text = html.read_text()
    page = _parse(text)
    # Self-contained: no script, no fetched resource, no link anywhere.
    assert "script" not in page.tags and "img" not in page.tags and "link" not in page.tags
    assert not [a for a, _ in page.attrs if a in ("src", "href")]
    assert "http" not in text
    # The period and the filters come first.
    head = text.split("<section", 1)[0]
    assert "2026-01-01" in head and "2026-02-28" in head and "plan Growth" in head
    # Charts hold the numbers. The Growth plan's cohort is A, B and C
    # (6,000 of ARR): in February B (2,000) churns, C loses 1,000, A gains 500.
    assert "Feb 26: 33.3%" in page.titles  # logo churn, 1 of 3
    assert "Feb 26: 58%" in page.titles  # NRR, 3,500 of 6,000
    assert "Jan 26: 100%" in page.titles
    assert text.count("<svg") == 5
    # February in the retention table: 3 customers, 1 churned, ARR 6,000 at the start.
    assert "<td>2026-02</td><td>3</td><td>1</td>" in text
    assert "<td>6,000</td><td>2,000</td><td>1,000</td><td>500</td>" in text
    markdown = md.read_text()
    assert markdown.startswith("# Book of business, 2026-01-01 to 2026-02-28")
    assert "| 2026-02 | 3 | 1 | 33.3% |" in markdown


def test_the_report_of_an_empty_book_renders(run_cli, admin, tmp_path):
    path = tmp_path / "empty.html"
    result = run_cli("report", "book", "--html", path)
    assert result.exit_code == 0, result.stderr
    page = _parse(path.read_text())
    assert "table" in page.tags
    assert "no data" in path.read_text()


def test_a_report_needs_a_file(run_cli, admin):
    result = run_cli("report", "book")
    assert result.exit_code == 2
    assert "--html FILE, --markdown FILE, --pdf FILE" in result.stderr


def test_the_book_report_as_pdf(run_cli, dated_book, tmp_path):
    import pypdf

    path = tmp_path / "book.pdf"
    result = run_cli("report", "book", "--from", "2026-01-01", "--to", "2026-02-28", "--pdf", path)
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes().startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    assert "Book of business" in text
    assert "2026-01-01" in text and "2026-02-28" in text
    assert "Success metrics on 2026-02-28" in text
