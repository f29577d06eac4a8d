"""Regional scoping: a regional service centre reads only its own region's cases, visits and whereabouts.

The token's `region` claim (`Principal.region`) names the region. A principal that also holds a
role with a national view (dispatcher, department head, quality engineer, admin) is not limited.
One rule for every service, so dispatch and onsite answer the same way (decision 0074).
"""

from __future__ import annotations

from shared.api.auth import Principal, Role
from shared.api.problems import Forbidden
from shared.messages import msg

NATIONAL_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.DEPARTMENT_HEAD, Role.QUALITY_ENGINEER)


def region_scope(principal: Principal) -> str | None:
    """The one region this principal may read, or None when it reads every region.

    A regional centre's token without a `region` claim reads nothing (403), never everything.
    """
    if not principal.has(Role.REGIONAL_CENTRE) or principal.has(*NATIONAL_ROLES):
        return None
    if not principal.region:
        raise Forbidden(msg("a regional centre's token must carry its `region` claim"))
    return principal.region


def in_region_scope(principal: Principal, region: str | None) -> bool:
    """Whether a record of `region` is readable by this principal under the regional rule."""
    scope = region_scope(principal)
    return scope is None or scope == region
