"""Area repositories: each area's queries behind a class taking the ``Session``, reached
through ``uow.repo(AreaRepository)`` so services never build ``select(...)`` themselves."""
