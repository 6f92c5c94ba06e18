"""Read-side queries shaped for a screen or an integration (HOUSE_STYLE: read screens may use
plain read-side queries that return view objects). Each module offers a small class bound to
a session, reached like a repository: ``uow.repo(PatientSearch)``."""
