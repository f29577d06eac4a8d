"""Tables of the feedback database (besides the shared outbox tables): derived from the models under
`services/feedback/`, so a new model is migrated and drift-checked without a list to keep."""

from shared.migrations import service_tables

TABLES = service_tables("feedback")
