"""The daily plan's contract sources (to be written): overdue instalments and renewals due."""


def register_sources() -> None:
    pass
