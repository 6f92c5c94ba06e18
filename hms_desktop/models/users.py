"""Users list (``GET /users``) as an incrementally fetched table."""

from __future__ import annotations

from hms_desktop.models.paged import Column, PagedTableModel
from hms_desktop.qt import translate
from hms_desktop.roles import roles_text
from hms_desktop.tasks import TaskRunner


def _active_text(item: dict) -> str:
    return translate("UsersTableModel", "Active" if item.get("active") else "Disabled")


class UsersTableModel(PagedTableModel):
    """Username, full name, roles, active; sorted by the server (username / full name)."""

    def __init__(self, tasks: TaskRunner, api, parent=None) -> None:
        columns = [
            Column("username", translate("UsersTableModel", "Username"), "username"),
            Column("full_name", translate("UsersTableModel", "Full name"), "full_name"),
            Column(
                "roles",
                translate("UsersTableModel", "Roles"),
                render=lambda item: roles_text(item.get("roles", [])),
            ),
            Column("active", translate("UsersTableModel", "Status"), render=_active_text),
        ]

        def fetch(filters: dict, sort: str | None, limit: int, offset: int) -> dict:
            return api.list_users(filters.get("q"), sort=sort, limit=limit, offset=offset)

        super().__init__(tasks, fetch, columns, default_sort="username", parent=parent)
