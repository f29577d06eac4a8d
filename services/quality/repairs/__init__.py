"""Repair orders (S28): equipment taken back, a receipt for the customer, status reported to the customer."""
