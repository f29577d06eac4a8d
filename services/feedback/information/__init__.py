"""Customer information (S32): opinions, suggestions and leads routed, answered, and the customer told."""
