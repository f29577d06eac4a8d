"""The service case: from the CRM's request (S1) to dispatch (S6) and the case record."""
