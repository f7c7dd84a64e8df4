"""One widget per view of the session."""
