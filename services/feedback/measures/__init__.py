"""Measures of follow-up: CSAT, NPS, response and unreachable rates, time from completion to call."""
