"""Offline sync for field clients: the changes feed of a visit and of an engineer (decision 0091)."""
