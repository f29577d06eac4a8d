"""Quality issues: registered first (S25), fixed on site or handled in the closed loop."""
