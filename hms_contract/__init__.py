"""Request/response schemas. Import only pydantic and the standard library here, so the
desktop (or any client) can share them without pulling in the server."""
