"""Tables of the dispatch database (besides the shared outbox tables): derived from the models under
`services/dispatch/`, so a new model is migrated and drift-checked without a list to keep."""

from shared.migrations import service_tables

TABLES = service_tables("dispatch")
