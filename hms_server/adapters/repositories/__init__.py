"""Area repositories: the queries each area's services use, behind ``uow.repo(...)``."""
