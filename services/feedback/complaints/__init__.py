"""Complaints from follow-up (S34): back into the quality loop, with the issue's state shown."""
