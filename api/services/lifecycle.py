"""The case life cycle as one explicit state machine, and who may move a case along it.

    new ─▶ confirmed ─▶ dispatched ─▶ resolved ─▶ closed
     └──▶ dismissed        ▲              └──▶ reopened
                           └───────────────────────┘

`resolved` asks the camera to look again: it closes the case when the problem is gone and
reopens it when it is still there. Staff may also close or reopen by hand (a field photo).
"""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class Role(StrEnum):
    VIEWER = "viewer"  # reads everything, changes nothing
    DISPATCHER = "dispatcher"  # works cases: confirm, dismiss, dispatch, resolve, close, reopen
    OPERATOR = "operator"  # tunes cameras and zones
    ADMIN = "admin"  # everything, and users


class DismissReason(StrEnum):
    """Why an alert was dismissed: labels the models learn from, kept with the evidence."""

    FALSE_DETECTION = "false_detection"
    ALLOWED = "allowed"
    DUPLICATE = "duplicate"
    OTHER = "other"


TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.CONFIRMED, CaseStatus.DISMISSED}),
    CaseStatus.CONFIRMED: frozenset({CaseStatus.DISPATCHED}),
    CaseStatus.DISPATCHED: frozenset({CaseStatus.RESOLVED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED, CaseStatus.REOPENED}),
    CaseStatus.REOPENED: frozenset({CaseStatus.DISPATCHED}),
    CaseStatus.DISMISSED: frozenset(),
    CaseStatus.CLOSED: frozenset(),
}

OPEN = frozenset(s for s in CaseStatus if s not in (CaseStatus.DISMISSED, CaseStatus.CLOSED))
# Work that can run late: a resolved case waits on the camera, not on a person.
DEADLINE_RUNS = frozenset({CaseStatus.NEW, CaseStatus.CONFIRMED, CaseStatus.DISPATCHED, CaseStatus.REOPENED})

# Who may do what: roles are not a ladder, except that admin may do everything.
ROLE_ACTIONS: dict[Role, frozenset[str]] = {
    Role.VIEWER: frozenset({"read"}),
    Role.DISPATCHER: frozenset({"read", "transition", "label"}),
    Role.OPERATOR: frozenset({"read", "zones", "label"}),
    Role.ADMIN: frozenset({"read", "transition", "label", "zones", "users", "admin"}),
}

STATUS_NAMES: dict[CaseStatus, tuple[str, str]] = {
    CaseStatus.NEW: ("待确认", "new"),
    CaseStatus.CONFIRMED: ("已确认", "confirmed"),
    CaseStatus.DISMISSED: ("已驳回", "dismissed"),
    CaseStatus.DISPATCHED: ("已派遣", "dispatched"),
    CaseStatus.RESOLVED: ("已处置待复核", "resolved, awaiting the camera"),
    CaseStatus.CLOSED: ("已结案", "closed"),
    CaseStatus.REOPENED: ("已重新打开", "reopened"),
}


class TransitionError(ValueError):
    """A move the life cycle does not allow; the message says why in both languages."""


def allowed_targets(status: CaseStatus) -> frozenset[CaseStatus]:
    return TRANSITIONS[status]


def may(role: Role, action: str) -> bool:
    return action in ROLE_ACTIONS[role]


def check_transition(current: CaseStatus, target: CaseStatus, reason: str | None) -> None:
    """Raise TransitionError unless `current → target` is in the life cycle with what it needs."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "无 none (终态 final)"
        raise TransitionError(
            f"不能从「{STATUS_NAMES[current][0]}」变为「{STATUS_NAMES[target][0]}」/ "
            f"a {current} case cannot become {target}; allowed next: {allowed}"
        )
    if target is CaseStatus.DISMISSED and reason is None:
        choices = ", ".join(r.value for r in DismissReason)
        raise TransitionError(f"驳回需要原因 / dismissing needs a reason: one of {choices}")
    if target is not CaseStatus.DISMISSED and reason is not None:
        raise TransitionError(f"只有驳回需要原因 / only a dismissal takes a reason, not a move to {target}")


PRIORITIES = ("low", "normal", "high", "urgent")


def priority_rank(priority: str) -> int:
    return PRIORITIES.index(priority)


def raised(priority: str, steps: int = 1) -> str:
    """One level more urgent, capped at the top."""
    return PRIORITIES[min(len(PRIORITIES) - 1, priority_rank(priority) + steps)]
