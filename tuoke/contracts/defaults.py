"""What a fresh installation starts with: the contract approval flows (large contracts go to
the rep's manager, the sales director and finance; foreign-currency ones to finance).
Administrators change them in Settings → Approval flows."""


def install_defaults(sender=None, **kwargs) -> None:
    """post_migrate: create the default flows when no contract flow was ever made (deleted
    ones count: an administrator who removed them does not get them back)."""
    # Implemented by the contracts services helper (see the spec).
