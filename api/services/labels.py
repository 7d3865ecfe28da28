"""Labels, the API's half of the learning loop: kept in the database (the models' training data), appended to
the label stream for the camera's worker, and made from the centre's own work: a confirmed case says the
problem is there, a dismissal as a false detection (or as allowed here) says the zone is clear of it."""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from api.orm import OPEN_STATUSES, CaseRow, LabelRow, utcnow
from bus import BusConfig
from bus.labels import LabelMessage, labels_stream, publish_label
from bus.snapshots import clean_of

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DISMISSALS_THAT_MEAN_CLEAR = ("false_detection", "allowed")
PROBLEM_LABEL_QUIET = timedelta(minutes=30)  # a zone labelled as showing a problem is not calibrated this soon


class LabelStore:
    def __init__(self, sessions: sessionmaker, client: redis.Redis, bus: BusConfig, media_root: Path,
                 clock: Clock = utcnow) -> None:
        self.sessions = sessions
        self.client = client
        self.bus = bus
        self.media_root = media_root
        self.clock = clock

    def add(self, camera_id: str, zone_id: str, problem: str, positive: bool, image: str, source: str,
            author: str, case_id: int | None = None) -> LabelRow:
        row = LabelRow(camera_id=camera_id, zone_id=zone_id, problem=problem, positive=positive, image=image,
                       source=source, case_id=case_id, author=author, at=self.clock(), sent=False)
        with self.sessions.begin() as session:
            session.add(row)
        self._send([row])
        return row

    def _send(self, rows: list[LabelRow]) -> int:
        """Append labels to the stream and mark them sent; on Redis trouble they stay unsent for `resend`."""
        sent: list[int] = []
        for row in rows:
            try:
                publish_label(self.client, self.bus, LabelMessage(
                    label_id=row.id, camera_id=row.camera_id, zone_id=row.zone_id, problem=row.problem,
                    positive=row.positive, image=row.image))
            except redis.RedisError as exc:
                log.warning("label %d not sent to the workers yet: %s", row.id, exc)
                break
            sent.append(row.id)
            row.sent = True
        if sent:
            with self.sessions.begin() as session:
                session.execute(update(LabelRow).where(LabelRow.id.in_(sent)).values(sent=True))
        return len(sent)

    def resend(self, batch: int = 200) -> int:
        """Labels Redis missed, and every label again when Redis came back without the stream (a restart
        without its data): workers replay the stream from its start, and skip labels they already learned."""
        with self.sessions.begin() as session:
            if not self.client.exists(labels_stream(self.bus)):
                session.execute(update(LabelRow).where(LabelRow.sent.is_(True)).values(sent=False))
            rows = list(session.scalars(select(LabelRow).where(LabelRow.sent.is_(False))
                                        .order_by(LabelRow.id).limit(batch)))
        return self._send(rows)

    def from_case(self, case: CaseRow, target: str, reason: str | None, author: str) -> LabelRow | None:
        """A confirmation or a dismissal is a label, when the case has the clean picture it was raised on."""
        if target == "confirmed":
            positive = True
        elif target == "dismissed" and reason in DISMISSALS_THAT_MEAN_CLEAR:
            positive = False
        else:
            return None
        if not case.evidence or not (self.media_root / clean_of(case.evidence)).is_file():
            return None
        source = "case_confirmed" if positive else "case_dismissed"
        return self.add(case.camera_id, case.zone_id, case.problem, positive, clean_of(case.evidence), source,
                        author, case.id)

    def snapshot_copy(self, relative: str) -> str:
        """A picture kept for a label: later snapshots overwrite the camera's, a label's must not change."""
        source = (self.media_root / relative).resolve()
        if not source.is_relative_to(self.media_root) or not source.is_file():
            raise FileNotFoundError(relative)
        kept = Path("labels") / f"{uuid.uuid4().hex}{source.suffix or '.jpg'}"
        (self.media_root / kept).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, self.media_root / kept)
        return kept.as_posix()

    def list(self, camera_id: str, zone_id: str | None = None, limit: int = 500) -> list[LabelRow]:
        statement = select(LabelRow).where(LabelRow.camera_id == camera_id).order_by(LabelRow.id.desc()).limit(limit)
        if zone_id is not None:
            statement = statement.where(LabelRow.zone_id == zone_id)
        with self.sessions() as session:
            return list(session.scalars(statement))

    def counts(self, camera_id: str) -> dict[str, dict[str, int]]:
        """Per zone and class: labels of each kind (what a head can learn from)."""
        with self.sessions() as session:
            rows = session.execute(select(LabelRow.zone_id, LabelRow.problem, LabelRow.positive, func.count())
                                   .where(LabelRow.camera_id == camera_id)
                                   .group_by(LabelRow.zone_id, LabelRow.problem, LabelRow.positive)).all()
        counts: dict[str, dict[str, int]] = {}
        for zone_id, problem, positive, count in rows:
            counts.setdefault(f"{zone_id}/{problem}", {"problem": 0, "clear": 0})["problem" if positive else "clear"] \
                = int(count)
        return counts

    def calibration_blocker(self, camera_id: str, zone_id: str, problems: Iterable[str]) -> str | None:
        """Why the zone cannot be calibrated as clear now (zh-CN / English), or None: an open case of one of its
        scene classes, or a problem label on it within PROBLEM_LABEL_QUIET."""
        problems = sorted(set(problems))
        since = self.clock() - PROBLEM_LABEL_QUIET
        with self.sessions() as session:
            case_id = session.scalar(select(CaseRow.id).where(
                CaseRow.camera_id == camera_id, CaseRow.zone_id == zone_id, CaseRow.problem.in_(problems),
                CaseRow.status.in_(OPEN_STATUSES)).order_by(CaseRow.id).limit(1))
            label_id = session.scalar(select(LabelRow.id).where(
                LabelRow.camera_id == camera_id, LabelRow.zone_id == zone_id, LabelRow.problem.in_(problems),
                LabelRow.positive.is_(True), LabelRow.at >= since).limit(1))
        if case_id is not None:
            return f"区域有未结案的案件 {case_id} / the zone has an open case ({case_id}): close it first"
        if label_id is not None:
            minutes = int(PROBLEM_LABEL_QUIET.total_seconds() // 60)
            return (f"区域在{minutes}分钟内被标注为有问题 / the zone was labelled as showing a problem in the last "
                    f"{minutes} minutes")
        return None
