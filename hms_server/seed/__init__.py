"""Demo and test data, created through the same services the API uses."""
