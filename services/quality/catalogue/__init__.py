"""The failure-mode catalogue (S25): the words issues are classified with, maintained via the API."""
