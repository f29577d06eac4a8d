"""Views across issues: recurrence, mean time to close, open issues past their SLA."""
