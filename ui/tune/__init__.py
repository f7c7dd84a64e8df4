"""The Tune view: a search's setup, its live trials and its dock."""
