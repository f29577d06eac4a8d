"""HTTP building blocks shared by the four services."""
