"""Follow-up calls for the call centre (S34)."""
