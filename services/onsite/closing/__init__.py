"""Closing the visit: checks, clean-up, hand-over, drawings, sign-off, report, departure (S26-S33)."""
