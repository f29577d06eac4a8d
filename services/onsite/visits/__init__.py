"""The site visit of a dispatched case, from the three calls (S8) to the signed receipt (S30)."""
