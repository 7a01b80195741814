"""What a ticket keeps of its routing decision, typed: acknowledgement, links, survey, notify, policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass, replace
from typing import Any

from mailroom.rules.engine import Decision
from mailroom.rules.ruleset import Rules
from mailroom.sla.deadlines import policy_name
from mailroom.sla.policies import Policy


@dataclass(frozen=True)
class Routing:
    """The routing decision as a ticket keeps it for later steps (ack, survey, notifications, SLA).

    Stored as the JSON object it has always been; `recorded` is False for a ticket that never got
    one (made by hand or by an older version), which then takes every default.
    """

    ack: str | bool | None = "ack"  # the acknowledgement template; False or None: no acknowledgement
    links: tuple[Any, ...] = ()  # {title, url} mappings or plain URLs, as the rules gave them
    survey: bool | None = None  # False: the rules say no satisfaction survey
    notify: tuple[str, ...] = ()  # addresses the rules added to the team's own
    page: bool = False
    policy_name: str | None = None  # the policy a rule named, else the priority at routing time
    sla_override: Mapping[str, Any] | None = None  # inline `sla` keys as written
    rules: tuple[str, ...] = ()  # the rules that matched, by name
    recorded: bool = True

    @classmethod
    def of(cls, decision: Decision) -> Routing:
        """What the ticket keeps of the engine's decision."""
        links = tuple(asdict(link) if is_dataclass(link) and not isinstance(link, type) else link for link in decision.links)
        return cls(decision.ack, links, decision.survey, tuple(decision.notify), decision.page,
                   decision.policy_name, decision.sla_override, tuple(hit.name for hit in decision.matched))

    @classmethod
    def from_json(cls, data: Any) -> Routing:
        """A stored decision; missing keys take their defaults, a value of the wrong shape is ignored."""
        if isinstance(data, Routing):
            return data
        if not isinstance(data, Mapping) or not data:
            return cls(recorded=False)
        override = data.get("sla_override")
        return cls(
            ack=data.get("ack", "ack"),
            links=tuple(data.get("links") or ()),
            survey=data.get("survey"),
            notify=tuple(data.get("notify") or ()),
            page=bool(data.get("page")),
            policy_name=data.get("policy_name"),
            sla_override=override if isinstance(override, Mapping) else None,
            rules=tuple(data.get("rules") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored in the ticket row (empty when nothing was recorded)."""
        if not self.recorded:
            return {}
        return {
            "ack": self.ack, "links": list(self.links), "survey": self.survey, "notify": list(self.notify),
            "page": self.page, "policy_name": self.policy_name,
            "sla_override": dict(self.sla_override) if self.sla_override is not None else None,
            "rules": list(self.rules),
        }

    def with_policy(self, name: str) -> Routing:
        """The same routing, following policy `name` from now on (an engineer's priority change)."""
        return replace(self, policy_name=name, recorded=True)

    def policy(self, rules: Rules, priority: str) -> Policy:
        """The ticket's SLA policy now: one a rule named, else its current priority's; inline keys on top."""
        return rules.resolve_policy(priority, policy_name(priority, self.policy_name), self.sla_override)

    @property
    def acknowledges(self) -> bool:
        """False when the rules said no acknowledgement."""
        return self.ack not in (False, None)

    @property
    def ack_template(self) -> str:
        """The acknowledgement template's name (`ack` unless a rule chose another)."""
        return self.ack if isinstance(self.ack, str) and self.ack else "ack"
