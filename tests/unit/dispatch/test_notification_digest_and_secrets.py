"""Notifications, the rest of issue 14 (decision 0090): secret event fields (S34's survey link), S20's daily-log
digest and the retention of messages: the pure rules, and the Message-ID of a mail against a real SMTP sink."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from devstack.mailsink import MailSink
from services.dispatch.notifications import domain
from services.dispatch.notifications.adapters import AppriseNotifier, OutgoingMessage
from services.dispatch.notifications.domain import Channel, DayLogEntry, Language
from services.dispatch.notifications.render import environment
from services.dispatch.settings import DispatchSettings
from shared.events import EventEnvelope
from shared.events.feedback import SurveyLinkIssued
from shared.events.registry import REDACTED, redact

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "https://feedback.example/survey/tok-SECRET-0123456789abcdef"


def issued() -> EventEnvelope:
    payload = SurveyLinkIssued(link_id=uuid.uuid4(), call_id=uuid.uuid4(), case_id=uuid.uuid4(), url=URL,
                               expires_at=datetime(2026, 12, 5, tzinfo=UTC), questionnaire_id="follow-up",
                               questionnaire_version=1)
    return EventEnvelope.wrap(payload, source="/fieldservice/feedback", subject=str(payload.case_id), actor="a")


# --- secret fields --------------------------------------------------------------------------------

def test_a_secret_field_is_redacted_in_what_is_stored_and_kept_in_what_is_published():
    envelope = issued()
    assert envelope.data["url"] == URL  # the one consumer that needs it reads it
    kept = envelope.redacted()
    assert kept.data["url"] == REDACTED and URL not in kept.model_dump_json()
    assert kept.data["link_id"] == envelope.data["link_id"] and kept.id == envelope.id
    # an event without secrets is itself; an unknown type has none
    plain = EventEnvelope(type="Unknown", source="/x", time=datetime.now(UTC), subject="c", correlationid="c",
                          actor="a", data={"url": "u"})
    assert plain.redacted() is plain and redact("Unknown", 1, {"url": "u"}) == {"url": "u"}


def test_the_stored_body_holds_a_marker_that_the_worker_replaces_with_the_secret():
    body = f"Please answer: {domain.secret_marker('url')}\n"
    assert URL not in body
    assert domain.reveal(body, {"url": URL}) == f"Please answer: {URL}\n"
    assert domain.reveal(body, None) == body
    for language in Language:
        assert f"{language.value}/survey_link.txt" in environment().list_templates()
    assert domain.rule_for("SurveyLinkIssued") == domain.Rule("survey_link", (domain.Audience.CUSTOMER,), "S34")


def test_a_mail_s_message_id_is_the_notification_s_on_every_attempt():
    with MailSink() as sink:
        notifier = AppriseNotifier(DispatchSettings(notify_adapter="apprise", notify_email_url=sink.url,
                                                    notify_email_from="noreply@grid.example.cn"))
        message = OutgoingMessage(id="0b6c", address="li.na@customer.example.cn", channel=Channel.EMAIL,
                                  subject="s", body="b", language="en")
        import asyncio

        async def twice() -> None:
            await notifier.send(message)
            await notifier.send(message)

        asyncio.run(twice())
        mails = sink.to("li.na@customer.example.cn")
    assert [m.message.get_all("Message-ID") for m in mails] == [["<notification-0b6c@grid.example.cn>"]] * 2
    assert domain.message_id("x", "no address") == "<notification-x@notifications.invalid>"


# --- S20: the daily-log digest --------------------------------------------------------------------

def test_a_site_day_closes_at_the_site_s_midnight_and_its_digest_goes_after_the_delay():
    hour = timedelta(hours=1)
    def at(d: date, h: int, m: int = 0) -> datetime:
        return datetime(d.year, d.month, d.day, h, m, tzinfo=SHANGHAI).astimezone(UTC)
    day = date(2026, 12, 2)
    assert domain.closed_site_days(at(day, 23, 59), SHANGHAI, hour, 2) == [day - timedelta(days=1),
                                                                           day - timedelta(days=2)]
    assert day not in domain.closed_site_days(at(day + timedelta(days=1), 0, 59), SHANGHAI, hour, 3)
    assert domain.closed_site_days(at(day + timedelta(days=1), 1), SHANGHAI, hour, 1) == [day]
    # in UTC the same instant is still the 2nd's evening: the site's zone decides, not the server's
    assert domain.closed_site_days(at(day + timedelta(days=1), 1), ZoneInfo("UTC"), hour, 1) == [
        day - timedelta(days=1)]


def test_the_digest_summarises_cases_engineers_work_progress_and_missed_logs():
    entries = [
        DayLogEntry("c2", "CRM-2", "Site B", "eng-3", True, "Tests " + "x" * 600, "done", None),
        DayLogEntry("c1", "CRM-1", "Site A", "eng-1", True, " Bay 3 wired ", "60 %", "crane late"),
        DayLogEntry("c1", "CRM-1", "Site A", "eng-2", False),
        DayLogEntry("c1", "CRM-1", "Site A", "eng-2", False),  # told twice: one missed log
    ]
    digest = domain.daily_digest("east", date(2026, 12, 2), entries)
    assert digest is not None
    assert (digest["case_count"], digest["engineer_count"], digest["log_count"], digest["missed_count"]) == (
        2, 3, 2, 1)
    first, second = digest["cases"]
    assert first["crm_reference"] == "CRM-1" and first["missed"] == ["eng-2"]
    assert first["logs"] == [{"engineer_id": "eng-1", "work_done": "Bay 3 wired", "progress": "60 %",
                              "problems": "crane late"}]
    assert len(second["logs"][0]["work_done"]) == domain.DIGEST_TEXT_LIMIT and second["logs"][0]["problems"] == ""
    assert domain.daily_digest("east", date(2026, 12, 2), []) is None


def test_each_daily_log_is_a_message_only_when_configured():
    assert domain.rule_for("DailyLogSubmitted", {}, daily_log_each=False) is None
    assert domain.rule_for("DailyLogSubmitted", {}, daily_log_each=True) is not None
    assert domain.rule_for("DailyLogMissed", {}, daily_log_each=False) is not None


def test_retention_counts_days_from_when_a_message_was_queued():
    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert domain.retention_cutoff(now, 400) == now - timedelta(days=400)
    assert domain.retention_cutoff(now, 0) is None
