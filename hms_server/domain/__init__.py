"""Plain-Python business rules and errors: no FastAPI, no SQLAlchemy."""
