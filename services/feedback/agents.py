"""Who is acting on a call: a human agent's own token, or the call-centre tool naming its agent."""

from __future__ import annotations

from shared.api.auth import Principal, Role
from shared.api.problems import Forbidden, InvalidInput
from shared.messages import msg


def acting_agent(principal: Principal, agent: str | None) -> str:
    """The agent who holds leases and records attempts.

    The call-centre tool is one machine client working for many agents, so it names the agent
    in the body (`agent`); a human agent acts as themself and may not act for someone else.
    """
    if principal.has(Role.CALL_CENTRE_TOOL):
        if not agent:
            raise InvalidInput(msg("the call-centre tool must name the agent it acts for"), field="agent")
        return agent
    if agent is not None and agent != principal.subject:
        raise Forbidden(msg("an agent acts only for themself"))
    return principal.subject
