"""File formats: agent files and their schema, and exports (CSV, video)."""
