"""Tables of the onsite database (besides the shared outbox tables): derived from the models under
`services/onsite/`, so a new model is migrated and drift-checked without a list to keep."""

from shared.migrations import service_tables

TABLES = service_tables("onsite")
