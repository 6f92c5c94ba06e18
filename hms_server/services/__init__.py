"""Use cases: one function per thing a user does. Each takes a unit of work and commits."""
