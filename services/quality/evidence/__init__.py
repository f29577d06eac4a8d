"""Evidence files of quality issues (S25): size and type limits, SHA-256 stored and checked on download."""
