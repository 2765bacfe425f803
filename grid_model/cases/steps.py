"""The steps of the case closed loop (办案闭环) and who may take each: one table.

::

    recorded ─dispatch→ dispatched ─accept→ accepted ─start→ in_progress ─handle→ handled
       │  ↑                 │                  │           │   ↑                    │
       │  └──dispatch── returned ←─return──────┴───────────┘   │ hold/resume        │ verify
       │                                                   on_hold                  │
       └─close (answered on the spot)→ closed ←──────── pass ────────────────────────┤
                                         │                 fail (rework) → in_progress
                                         └─visit (once, with satisfaction)

``supervise`` (督办) keeps the status: the street office sets a deadline on an open case that
is overdue. ``visit`` keeps it too (a visited case stays closed, so every closed-needs measure
reads as before). The role rules are the issue's: a named worker of any role is dispatched to;
only that worker accepts, returns, starts, holds, resumes and handles (an administrator may act
for anyone, e.g. entering paper records); the grid assistant or a community leader verifies,
never the worker who handled it; the street office supervises.

>>> allowed_steps("handled")
('verify', 'supervise')
>>> STEPS["verify"].target(passed=False)
'in_progress'
"""

from __future__ import annotations

from dataclasses import dataclass

from grid_model.models import Status

#: Roles a worker may hold (models.Role) — every one of them may be dispatched to.
WORKER_ROLES = frozenset({"grid_assistant", "mediator", "lawyer", "info_officer", "volunteer"})
ASSIGNEE = WORKER_ROLES | {"admin"}
DISPATCHERS = frozenset({"admin", "street_office", "community_leader", "grid_assistant"})
VERIFIERS = frozenset({"admin", "grid_assistant", "community_leader"})
VISITORS = frozenset({"admin", "grid_assistant", "community_leader", "street_office"})
RECORDERS = frozenset({"admin", "grid_assistant", "mediator", "lawyer"})
SUPERVISORS = frozenset({"admin", "street_office"})

OPEN = frozenset(s.value for s in Status) - {"closed"}
SATISFACTION = ("satisfied", "basically_satisfied", "dissatisfied")
SATISFACTION_ALIASES = {
    "satisfied": ["满意"],
    "basically_satisfied": ["基本满意", "basically satisfied"],
    "dissatisfied": ["不满意", "not satisfied"],
}
PRIORITIES = ("normal", "urgent")
PRIORITY_ALIASES = {"normal": ["一般", "普通"], "urgent": ["紧急", "加急"]}


@dataclass(frozen=True)
class Step:
    """One step: the statuses it may be taken from, where it leads, who may take it and the
    values it needs (``required``) or accepts (``optional``)."""

    name: str
    sources: frozenset[str]
    to: str | None  # None: the status stays (or, for verify, depends on the result)
    roles: frozenset[str]
    assignee_only: bool = False
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    def target(self, *, status: str | None = None, passed: bool | None = None) -> str:
        """The status after the step (``status`` is the one before)."""
        if self.name == "verify":
            return "closed" if passed else "in_progress"
        return self.to or status


def _s(*names: str) -> frozenset[str]:
    return frozenset(names)


#: The transition table: every step, in the order of the loop.
STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step("dispatch", _s("recorded", "returned"), "dispatched", DISPATCHERS,
             required=("to",), optional=("priority",)),
        Step("accept", _s("dispatched"), "accepted", ASSIGNEE, assignee_only=True),
        Step("return", _s("dispatched", "accepted"), "returned", ASSIGNEE, assignee_only=True,
             required=("reason",)),
        Step("start", _s("accepted"), "in_progress", ASSIGNEE, assignee_only=True),
        Step("hold", _s("in_progress"), "on_hold", ASSIGNEE, assignee_only=True,
             required=("reason",)),
        Step("resume", _s("on_hold"), "in_progress", ASSIGNEE, assignee_only=True),
        Step("handle", _s("in_progress"), "handled", ASSIGNEE, assignee_only=True,
             required=("outcome",)),
        Step("verify", _s("handled"), None, VERIFIERS, required=("passed",),
             optional=("outcome",)),
        Step("close", _s("recorded"), "closed", RECORDERS, required=("outcome",)),
        Step("visit", _s("closed"), None, VISITORS, required=("satisfaction",),
             optional=("performing",)),
        Step("supervise", OPEN, None, SUPERVISORS, required=("due",)),
    )
}  # fmt: skip

#: Steps in the order a page offers them.
STEP_ORDER: tuple[str, ...] = tuple(STEPS)


def allowed_steps(status: str) -> tuple[str, ...]:
    """The steps that may be taken from ``status``, in :data:`STEP_ORDER`."""
    return tuple(name for name in STEP_ORDER if status in STEPS[name].sources)


def may_take(step: Step, role: str) -> bool:
    """Whether ``role`` may take ``step`` at all (the assignee rule aside)."""
    return role in step.roles


__all__ = [
    "ASSIGNEE",
    "OPEN",
    "PRIORITIES",
    "SATISFACTION",
    "STEPS",
    "STEP_ORDER",
    "WORKER_ROLES",
    "Step",
    "allowed_steps",
    "may_take",
]
