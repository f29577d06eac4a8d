"""Evidence files with their content hash (S19)."""
