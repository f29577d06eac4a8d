"""Surveys (S34), the receipt rating (S30) and training evaluations (S31)."""
