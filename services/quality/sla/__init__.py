"""SLAs of quality issues: response and resolution targets per severity, pausable clocks, warnings, breaches."""
