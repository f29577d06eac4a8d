"""Resumable evidence uploads (tus 1.0): large photos and documents survive a dropped connection (S19)."""
