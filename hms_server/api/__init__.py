"""HTTP API: routers parse and validate, call one service, and shape the response."""
