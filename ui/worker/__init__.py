"""The training worker on its QThread, and the modes its timer runs."""
