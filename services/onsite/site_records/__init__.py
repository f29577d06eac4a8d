"""Records kept on site: communication and reports (S15, S16), process records (S18), leaving mid-way (S21),
raised items (S22-S24), training (S31) and customer information (S32)."""
