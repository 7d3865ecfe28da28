"""Moving a case along its life cycle: check, route, record, and ask the camera when it is resolved."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.orm import CaseRow, utcnow
from api.services import changes
from api.services.labels import LabelStore
from api.services.lifecycle import CaseStatus, DismissReason, TransitionError, check_transition
from api.services.routing import Router
from api.services.verification import Verifier

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


class CaseNotFound(LookupError):
    pass


class Workflow:
    def __init__(self, sessions: sessionmaker, router: Router, verifier: Verifier | None,
                 clock: Clock = utcnow, labels: LabelStore | None = None) -> None:
        self.sessions = sessions
        self.router = router
        self.verifier = verifier
        self.clock = clock
        self.labels = labels

    def transition(
        self, case_id: int, target: CaseStatus, actor: str, note: str | None = None,
        reason: DismissReason | None = None, assignee: str | None = None,
    ) -> CaseRow:
        """Apply one move or raise TransitionError (→ 409) / CaseNotFound (→ 404); nothing half-done."""
        now = self.clock()
        with self.sessions.begin() as session:
            case = session.scalar(select(CaseRow).where(CaseRow.id == case_id).with_for_update())
            if case is None:
                raise CaseNotFound(case_id)
            current = CaseStatus(case.status)
            check_transition(current, target, reason.value if reason else None)
            if assignee is not None and target is not CaseStatus.DISPATCHED:
                raise TransitionError(f"只有派遣可以指定处置人 / an assignee is given when dispatching, not {target}")
            details = self._apply(case, target, now, reason, assignee)
            request = self.verifier.prepare(case, now) if target is CaseStatus.RESOLVED and self.verifier else None
            changes.record(session, case, "transition", now, actor, action=target.value,
                           from_status=current.value, note=note, reason=reason.value if reason else None,
                           details=details)
        if request is not None:
            assert self.verifier is not None
            self.verifier.send(request)
        self._learn(case, target, reason, actor)
        return case

    def _learn(self, case: CaseRow, target: CaseStatus, reason: DismissReason | None, actor: str) -> None:
        """A confirmation or a dismissal teaches the zone's classifier; the move stands if that fails."""
        if self.labels is None:
            return
        try:
            self.labels.from_case(case, target.value, reason.value if reason else None, actor)
        except Exception:
            log.exception("case %d: its label could not be kept", case.id)

    def _apply(self, case: CaseRow, target: CaseStatus, now: datetime, reason: DismissReason | None,
               assignee: str | None) -> dict[str, object] | None:
        case.status = target.value
        case.updated_at = now
        details: dict[str, object] | None = None
        if target is CaseStatus.CONFIRMED and case.deadline is None:
            details = self.router.apply(case, now)
        elif target is CaseStatus.DISPATCHED:
            if case.deadline is None:
                details = self.router.apply(case, now)
            if assignee is not None:
                case.assignee = assignee
                details = {**(details or {}), "assignee": assignee}
        elif target is CaseStatus.DISMISSED:
            case.dismiss_reason = reason.value if reason else None
            case.closed_at = now
        elif target is CaseStatus.CLOSED:
            case.closed_at = now
        elif target is CaseStatus.REOPENED:
            # Reopened work gets a fresh deadline and may escalate again.
            if case.verification == "pending":
                case.verification = None
            details = self.router.apply(case, now)
        return details
