"""Date alerts: beat publishes "due soon" and "overdue" events for open milestones, each once
per interval (a moved due date opens a new window; overdue repeats every few days).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from koopboard.domain.milestones import BERLIN, MilestoneStatus, berlin_today, is_overdue
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import Milestone, MilestoneAlert, NotificationEvent
from koopboard.models.types import utcnow
from koopboard.notifications.outbox import publish


def date_alerts(today: date | None = None) -> int:
    """Publish due-soon and overdue events, each once per interval; returns events created."""
    config = current_app.config
    today = today or berlin_today(utcnow())
    soon_days = config["NOTIFY_DUE_SOON_DAYS"]
    repeat_days = config["NOTIFY_OVERDUE_REPEAT_DAYS"]
    noon = datetime.combine(today, time(12), BERLIN)  # an instant inside that Berlin day
    open_statuses = [s for s in MilestoneStatus if not s.is_closed]
    milestones = db.session.scalars(
        select(Milestone)
        .where(
            Milestone.status.in_(open_statuses),
            Milestone.due_date <= today + timedelta(days=soon_days),
        )
        .order_by(Milestone.id)
    ).all()
    if not milestones:
        return 0
    alerts = {
        (a.milestone_id, a.kind): a
        for a in db.session.scalars(
            select(MilestoneAlert)
            .where(MilestoneAlert.milestone_id.in_([m.id for m in milestones]))
            .with_for_update()
        )
    }
    created = 0
    for m in milestones:
        if is_overdue(m.status, m.due_date, noon):
            kind, event_type = "overdue", EventType.MILESTONE_OVERDUE
            alert = alerts.get((m.id, kind))
            due = alert is None or (today - alert.last_alert_on).days >= repeat_days
        else:
            kind, event_type = "due_soon", EventType.MILESTONE_DUE_SOON
            alert = alerts.get((m.id, kind))
            # Once per due date: a moved date opens a new window.
            due = alert is None or alert.last_alert_on < m.due_date - timedelta(days=soon_days)
        if not due:
            continue
        if alert is None:
            db.session.add(MilestoneAlert(milestone_id=m.id, kind=kind, last_alert_on=today))
        else:
            alert.last_alert_on = today
        publish(
            NotificationEvent(
                cooperation_id=m.cooperation_id,
                event_type=event_type.value,
                record_type="Milestone",
                record_id=m.id,
                actor_id=None,
                payload={"title": m.title, "due_date": m.due_date.isoformat()},
            )
        )
        created += 1
    db.session.commit()
    return created
