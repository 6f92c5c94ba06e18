"""Users list (``GET /users``) as an incrementally fetched table."""

from __future__ import annotations

from hms_contract.auth import UserRead
from hms_contract.common import Page
from hms_desktop.api.users import UsersApi
from hms_desktop.models.paged import Column, PagedTableModel
from hms_desktop.qt import translate
from hms_desktop.roles import roles_text
from hms_desktop.tasks import TaskRunner


def _active_text(item: UserRead) -> str:
    return translate("UsersTableModel", "Active" if item.active else "Disabled")


class UsersTableModel(PagedTableModel):
    """Username, full name, roles, active; sorted by the server (username / full name).
    Rows are ``UserRead``."""

    def __init__(self, tasks: TaskRunner, api: UsersApi, parent=None) -> None:
        columns = [
            Column("username", translate("UsersTableModel", "Username"), "username"),
            Column("full_name", translate("UsersTableModel", "Full name"), "full_name"),
            Column(
                "roles",
                translate("UsersTableModel", "Roles"),
                render=lambda item: roles_text(item.roles),
            ),
            Column("active", translate("UsersTableModel", "Status"), render=_active_text),
        ]

        def fetch(filters: dict, sort: str | None, limit: int, offset: int) -> Page[UserRead]:
            return api.list_users(filters.get("q"), sort=sort, limit=limit, offset=offset)

        super().__init__(tasks, fetch, columns, default_sort="username", parent=parent)
