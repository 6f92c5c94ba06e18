"""Read-side queries per area (reports, lists across tables) returning plain rows."""
