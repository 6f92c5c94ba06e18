"""Area repositories: the queries behind each area's writes, one class per area taking the
``Session`` (reached with ``uow.repo(Kind)``)."""
