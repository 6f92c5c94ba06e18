"""Qt item models for server-side lists, fetched incrementally in pages."""
