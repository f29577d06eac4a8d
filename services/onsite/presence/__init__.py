"""Daily sign-in/sign-out with location (S10) and the daily work log (S20)."""
