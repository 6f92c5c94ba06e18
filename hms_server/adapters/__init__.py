"""Database models, repositories, read-side queries and external gateways."""
