"""Insight: the standard's KPIs and conformance across cases (issue 15, decision 0085)."""
