"""Notifications to people (decision 0090): the pure rules, the templates, and the apprise adapter against a
real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from devstack.mailsink import MailSink
from services.dispatch.notifications import domain
from services.dispatch.notifications.adapters import (
    AppriseNotifier,
    LogNotifier,
    NotificationFailed,
    OutgoingMessage,
    notifier_from_settings,
)
from services.dispatch.notifications.domain import Audience, Channel, Language
from services.dispatch.notifications.render import environment, render
from services.dispatch.settings import DispatchSettings
from shared.events.registry import registry

SHANGHAI = ZoneInfo("Asia/Shanghai")
EIGHT, TWENTY = time(8), time(20)


# --- who gets what --------------------------------------------------------------------------------

def test_every_rule_names_a_known_event_type_and_existing_templates_in_both_languages():
    known = {p.event_type for p in registry.all()}
    assert set(domain.RULES) <= known
    names = set(environment().list_templates())
    for rule in domain.RULES.values():
        assert rule.audiences
        for language in Language:
            assert f"{language.value}/{rule.template}.txt" in names


def test_who_is_told_what():
    assert domain.rule_for("ArrivalRescheduled").audiences == (Audience.CUSTOMER, Audience.REGIONAL_CENTRE)
    assert domain.rule_for("PostponementDue").audiences == (Audience.DISPATCHER,)
    assert domain.rule_for("DailyLogSubmitted").audiences == (Audience.SERVICE_DEPARTMENT,)
    assert Audience.DEPARTMENT_HEAD in domain.rule_for("EngineerDeparted").audiences
    for customer_step in ("ServicePostponed", "RepairStatusChanged", "CustomerInformationAnswered",
                          "FollowUpCallScheduled"):
        assert domain.rule_for(customer_step).audiences == (Audience.CUSTOMER,)
    assert domain.rule_for("EngineerCheckedIn") is None


# --- addresses ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "channel"), [
    ("zhang.min@example.cn", Channel.EMAIL), ("+86 138 0000 0000", Channel.SMS), ("13800000000", Channel.SMS),
    ("wecombot://BOTKEY", Channel.WECOM), ("dingtalk://TOKEN", Channel.DINGTALK), ("feishu://TOKEN", Channel.FEISHU),
])
def test_the_address_decides_the_channel(address, channel):
    assert domain.channel_of(address) == channel


@pytest.mark.parametrize("address", ["json://internal-host/hook", "https://example.com", "not an address", "x@y"])
def test_an_address_no_channel_reaches_or_an_arbitrary_url_is_refused(address):
    with pytest.raises(ValueError):
        domain.channel_of(address)


def test_a_messenger_not_allowed_by_the_settings_is_refused():
    with pytest.raises(ValueError, match="dingtalk"):
        domain.channel_of("dingtalk://TOKEN", ["wecombot"])


def test_addresses_are_compared_normalised():
    assert domain.normalised(" Zhang.Min@Example.CN ") == "zhang.min@example.cn"
    assert domain.normalised("+86 (138) 0000-0000") == "+8613800000000"


@pytest.mark.parametrize(("preferred", "expected"), [
    ("zh", Language.ZH), ("zh-CN", Language.ZH), ("en_GB", Language.EN), ("EN", Language.EN), ("fr", Language.ZH),
    (None, Language.ZH), ("", Language.ZH),
])
def test_language_is_the_recipients_else_the_default(preferred, expected):
    assert domain.language_of(preferred, Language.ZH) == expected


# --- the contact window (site time) ---------------------------------------------------------------

def _at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_inside_the_window_a_customer_is_contacted_now():
    now = _at(9, 30)
    assert domain.window_opens(now, SHANGHAI, EIGHT, TWENTY) == now


def test_before_the_window_the_message_waits_for_its_opening_the_same_day():
    assert domain.window_opens(_at(6, 59), SHANGHAI, EIGHT, TWENTY) == _at(8)


def test_after_the_window_the_message_waits_for_the_next_morning_in_site_time():
    # 20:00 Beijing is 12:00 UTC: judged in UTC it would still be "day"
    now = _at(20, 0)
    assert now.hour == 12
    assert domain.window_opens(now, SHANGHAI, EIGHT, TWENTY) == _at(8, day=3)
    assert domain.window_opens(_at(23, 59), SHANGHAI, EIGHT, TWENTY) == _at(8, day=3)


def test_a_window_over_midnight_and_no_window():
    assert domain.in_window(time(23), time(22), time(6)) and not domain.in_window(time(12), time(22), time(6))
    assert domain.window_opens(_at(12), SHANGHAI, time(22), time(6)) == _at(22)
    assert domain.window_opens(_at(3), SHANGHAI, EIGHT, EIGHT) == _at(3)


# --- retries --------------------------------------------------------------------------------------

def test_retries_back_off_exponentially_with_jitter_then_fail():
    policy = domain.RetryPolicy(base=timedelta(seconds=30), max_delay=timedelta(minutes=10), max_attempts=5)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert domain.retry_at(1, now, policy, 0.0) == now + timedelta(seconds=30)
    assert domain.retry_at(2, now, policy, 0.0) == now + timedelta(seconds=60)
    assert domain.retry_at(2, now, policy, 0.999) > now + timedelta(seconds=30)  # cut by at most half
    assert domain.retry_at(4, now, policy, 0.0) == now + timedelta(seconds=240)
    assert domain.retry_at(5, now, policy, 0.0) is None  # the last attempt failed: `failed`
    capped = domain.RetryPolicy(base=timedelta(seconds=30), max_delay=timedelta(minutes=10), max_attempts=50)
    assert domain.retry_at(30, now, capped, 0.0) == now + timedelta(minutes=10)


# --- templates ------------------------------------------------------------------------------------

CASE = {"id": "c-1", "crm_reference": "CRM-42", "customer_name": "Jiangsu Grid", "site_name": "Wuxi 220kV",
        "region": "east"}


@pytest.mark.parametrize(("language", "words"), [(Language.ZH, "新到达时间"), (Language.EN, "New arrival")])
def test_the_s7_message_in_the_recipients_language_with_site_time(language, words):
    text = render("arrival_rescheduled", language, case=CASE, event_type="ArrivalRescheduled", step="S7",
                  audience="customer", recipient_name="Zhang Min", zone=SHANGHAI,
                  data={"new_arrival": "2026-12-01T01:00:00+00:00", "previous_arrival": "2026-11-30T01:00:00Z",
                        "reason": "crane late"})
    assert "CRM-42" in text.subject and "2026-12-01 09:00 (Asia/Shanghai)" in text.subject
    assert words in text.body and "crane late" in text.body and "2026-11-30 09:00" in text.body


def test_every_template_renders_with_its_events_fields():
    data = {"new_date": "2026-12-05", "reason": "r", "postponed_until": "2026-12-05", "team": [{"name": "Chen"}],
            "planned_start": "2026-12-01T01:00:00Z", "new_arrival": "2026-12-01T01:00:00Z", "previous_arrival": None,
            "engineer_id": "eng-1", "day": "2026-12-01", "planned_completion": "2026-12-01T01:00:00Z",
            "customer_deadline": "2026-12-02T01:00:00Z", "engineers_requested": 1, "status": "repaired", "note": "",
            "answer": "yes", "departed_at": "2026-12-01T10:00:00Z", "visit_closed": True,
            "due_at": "2026-12-03T02:00:00Z", "equipment_type": "GIS", "urgency": "high",
            "url": "⟦url⟧", "expires_at": "2026-12-05T02:00:00Z"}
    for rule in domain.RULES.values():
        for language in Language:
            text = render(rule.template, language, case=CASE, data=data, event_type="X", step=rule.step,
                          audience=rule.audiences[0].value, recipient_name=None, zone=SHANGHAI)
            assert text.subject and text.body.strip() and "\n" not in text.subject
    zh = render("repair_status_changed", Language.ZH, case=CASE, data=data, event_type="RepairStatusChanged",
                step="S28", audience="customer", recipient_name=None, zone=SHANGHAI)
    assert "已修复" in zh.subject


# --- adapters -------------------------------------------------------------------------------------

def _message(address: str = "zhang.min@example.cn", channel: Channel = Channel.EMAIL) -> OutgoingMessage:
    return OutgoingMessage(id="m-1", address=address, channel=channel, subject="新到达时间 CRM-42",
                           body="尊敬的客户\n新到达时间 09:00\n", language="zh")


def test_the_adapter_is_chosen_by_configuration():
    assert isinstance(notifier_from_settings(DispatchSettings(notify_adapter="log")), LogNotifier)
    assert isinstance(notifier_from_settings(DispatchSettings(notify_adapter="apprise")), AppriseNotifier)


async def test_the_apprise_adapter_sends_a_real_mail_over_smtp():
    with MailSink() as sink:
        notifier = AppriseNotifier(DispatchSettings(notify_adapter="apprise", notify_email_url=SecretStr(sink.url),
                                                    notify_email_from="noreply@fs.example"))
        await notifier.send(_message())
    [mail] = sink.received
    assert mail.recipients == ("zhang.min@example.cn",) and mail.mail_from == "noreply@fs.example"
    assert mail.subject == "新到达时间 CRM-42" and "新到达时间 09:00" in mail.text


async def test_a_refusing_smtp_server_is_a_failure_with_its_reason():
    with MailSink(refuse=True) as sink:
        notifier = AppriseNotifier(DispatchSettings(notify_adapter="apprise", notify_email_url=SecretStr(sink.url)))
        with pytest.raises(NotificationFailed):
            await notifier.send(_message())


async def test_unconfigured_channels_fail_and_messenger_urls_go_to_apprise_as_they_are():
    notifier = AppriseNotifier(DispatchSettings(notify_adapter="apprise"))
    with pytest.raises(NotificationFailed, match="NOTIFY_EMAIL_URL"):
        await notifier.send(_message())
    with pytest.raises(NotificationFailed, match="NOTIFY_SMS_URL"):
        await notifier.send(_message("+8613800000000", Channel.SMS))
    sms = AppriseNotifier(DispatchSettings(notify_adapter="apprise",
                                           notify_sms_url=SecretStr("twilio://AC123:token@+15550000000/{phone}")))
    assert sms.url_for(_message("+86 138 0000 0000", Channel.SMS)) == "twilio://AC123:token@+15550000000/+8613800000000"
    assert notifier.url_for(_message("wecombot://BOTKEY", Channel.WECOM)) == "wecombot://BOTKEY"


async def test_the_log_adapter_sends_nothing_and_succeeds(caplog):
    with caplog.at_level("INFO"):
        await asyncio.wait_for(LogNotifier().send(_message()), 1)
    assert "zhang.min@example.cn" in caplog.text
