"""Work on site: briefing, permits, tasks by the ticket, safety, process data, witnesses (S9-S17)."""
