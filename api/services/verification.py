"""Camera-verified closure, the API's half: ask the camera's worker to look again, then act on its answer.

A resolved case sends a request through Redis. The worker that runs the camera watches the zone
for a window of analysed frames and answers: gone (the case closes, with an after-snapshot beside
the before-snapshot) or still there (the case reopens with the new snapshot). A camera that is
not online, a worker that does not answer in time, or Redis being away leaves the case resolved
and visibly "not verified", never silently closed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.orm import CaseRow, utcnow
from api.services import changes
from api.services.lifecycle import CaseStatus
from api.services.routing import Router
from bus import BusConfig
from bus.control import VerifyRequest, VerifyResult, publish_request
from bus.health import read_camera_health

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
CAMERA_STALE_S = 30.0


class VerificationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    frames: int = Field(20, ge=1, le=10_000, description="Analysed frames the camera watches the zone for.")
    present_share: float = Field(
        0.5, gt=0.0, le=1.0, description="Share of those frames showing the problem that means it is still there."
    )
    timeout_s: float = Field(300.0, gt=0, description="No answer from the worker this long: not verified.")


@dataclass(frozen=True)
class Pending:
    request: VerifyRequest


class Verifier:
    def __init__(self, sessions: sessionmaker, client: redis.Redis, bus: BusConfig, config: VerificationConfig,
                 router: Router, clock: Clock = utcnow) -> None:
        self.sessions = sessions
        self.router = router
        self.client = client
        self.bus = bus
        self.config = config
        self.clock = clock

    def prepare(self, case: CaseRow, now: datetime) -> Pending | None:
        """Inside the resolving transaction: mark the case pending and build the request to send after commit."""
        if not self.config.enabled:
            return None
        case.verification = "pending"
        case.verification_id = uuid.uuid4().hex
        case.verification_requested_at = now
        case.verification_note = None
        request = VerifyRequest(
            request_id=case.verification_id, case_id=case.id, camera_id=case.camera_id, zone_id=case.zone_id,
            problem=case.problem, frames=self.config.frames, present_share=self.config.present_share,
        )
        return Pending(request)

    def send(self, pending: Pending) -> None:
        request = pending.request
        try:
            state = self._camera_state(request.camera_id)
            if state != "online":
                note = f"摄像头不在线（{state}），无法复核 / camera {request.camera_id} is {state}: not verified"
                self.not_verified(request.case_id, request.request_id, note)
                return
            publish_request(self.client, self.bus, request)
        except redis.RedisError as exc:
            log.warning("verification of case %d not sent: %s", request.case_id, exc)
            self.not_verified(request.case_id, request.request_id,
                              "无法联系工作节点 / the workers cannot be reached (Redis): not verified")

    def _camera_state(self, camera_id: str) -> str:
        for report in read_camera_health(self.client, self.bus, CAMERA_STALE_S):
            if report.get("camera_id") == camera_id:
                return str(report.get("state", "unknown"))
        return "unknown"

    def not_verified(self, case_id: int, request_id: str, note: str) -> bool:
        now = self.clock()
        with self.sessions.begin() as session:
            case = self._pending_case(session, case_id, request_id)
            if case is None:
                return False
            case.verification, case.verification_note, case.updated_at = "not_verified", note, now
            changes.record(session, case, "verification", now, "camera", action="not_verified", note=note)
        return True

    def apply(self, result: VerifyResult) -> None:
        """A worker's answer. An answer to an older request, or for a case no longer resolved, only goes on record."""
        now = self.clock()
        summary = f"{result.present_frames}/{result.frames}"
        with self.sessions.begin() as session:
            case = self._pending_case(session, result.case_id, result.request_id)
            details: dict[str, object] = {"frames": result.frames, "present_frames": result.present_frames,
                                          "verdict": result.verdict}
            if case is None:
                log.info("verification result for case %d ignored: no longer pending", result.case_id)
                return
            if (case.camera_id, case.zone_id, case.problem) != (result.camera_id, result.zone_id, result.problem):
                log.error("verification result for case %d names another place; ignored", result.case_id)
                return
            case.updated_at = now
            if result.verdict == "gone":
                case.status, case.closed_at = CaseStatus.CLOSED.value, now
                case.verification, case.after_evidence = "passed", result.snapshot
                case.verification_note = (f"摄像头复核：问题已消失（{summary} 帧可见）/ "
                                          f"camera check: gone ({summary} frames)")
                changes.record(session, case, "transition", now, "camera", action="closed",
                               from_status=CaseStatus.RESOLVED.value, note=case.verification_note, details=details)
            elif result.verdict == "present":
                case.status, case.verification = CaseStatus.REOPENED.value, "failed"
                case.after_evidence = result.snapshot
                case.verification_note = (f"摄像头复核：问题仍在（{summary} 帧可见）/ "
                                          f"camera check: still there in {summary} frames"
                                          + (f" — {result.note}" if result.note else ""))[:500]
                details.update(self.router.apply(case, now))  # reopened work gets a fresh deadline
                changes.record(session, case, "transition", now, "camera", action="reopened",
                               from_status=CaseStatus.RESOLVED.value, note=case.verification_note, details=details)
            else:
                case.verification = "not_verified"
                case.verification_note = result.note or "摄像头复核未完成 / the camera could not finish the check"
                changes.record(session, case, "verification", now, "camera", action="not_verified",
                               note=case.verification_note, details=details)

    def expire(self, now: datetime | None = None) -> int:
        """Requests nobody answered in time become "not verified"; returns how many."""
        now = now or self.clock()
        cutoff = now - timedelta(seconds=self.config.timeout_s)
        with self.sessions() as session:
            stale = session.execute(
                select(CaseRow.id, CaseRow.verification_id).where(
                    CaseRow.status == CaseStatus.RESOLVED.value, CaseRow.verification == "pending",
                    CaseRow.verification_requested_at < cutoff,
                )
            ).all()
        note = (f"{self.config.timeout_s:.0f} 秒内未收到摄像头复核结果 / no answer from the camera's worker "
                f"within {self.config.timeout_s:.0f} s: not verified")
        return sum(self.not_verified(case_id, request_id or "", note) for case_id, request_id in stale)

    @staticmethod
    def _pending_case(session, case_id: int, request_id: str) -> CaseRow | None:  # type: ignore[no-untyped-def]
        case = session.scalar(select(CaseRow).where(CaseRow.id == case_id).with_for_update())
        if case is None or case.status != CaseStatus.RESOLVED.value or case.verification != "pending":
            return None
        if case.verification_id != request_id:
            return None
        return case
