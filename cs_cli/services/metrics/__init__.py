"""The book's analytics (plan 7.1 and 11): retention, NPS, renewals and
health over a filtered part of the book, point in time. Each figure is
defined once, in docs/analytics.md, and computed by one function here; a
few aggregate queries per period, however large the book."""
