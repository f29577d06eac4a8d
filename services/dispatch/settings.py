"""Dispatch service settings (env: DISPATCH_DATABASE_URL, CRM_WEBHOOK_SECRETS, ...)."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr

from services.dispatch.notifications.domain import Language
from shared.settings import DEV_WEBHOOK_SECRET, ServiceSettings, SiteCalendarSettings, is_development_secret


class DispatchSettings(ServiceSettings, SiteCalendarSettings):
    service_name: str = "dispatch"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DISPATCH_DATABASE_URL", "database_url")
    )
    crm_webhook_secrets: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr(DEV_WEBHOOK_SECRET)],
        description="Current secret first; a second one is accepted during rotation",
    )
    postponement_check_seconds: float = Field(default=300, gt=0, description="S2: how often due postponements "
                                              "are looked for")
    suggestion_time_limit_seconds: float = Field(default=5, gt=0, le=120,
                                                 description="CP-SAT time limit of a suggested assignment")
    # Outbound webhooks (decision 0083)
    webhook_worker_enabled: bool = Field(default=True, description="Outbound webhooks: run the delivery worker "
                                         "in this process (off: the replica only queues deliveries)")
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="Outbound webhooks: how often the "
                                        "delivery worker looks for due deliveries when idle, in seconds")
    webhook_max_concurrency: int = Field(default=16, ge=1, le=256, description="Outbound webhooks: requests in "
                                         "flight per replica")
    webhook_max_in_flight_per_subscription: int = Field(
        default=4, ge=1, le=64, description="Outbound webhooks: requests in flight to one subscription (over all "
        "replicas); a slow subscriber holds at most this many of the worker's slots")
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=120, description="Outbound webhooks: time limit "
                                           "of one request (connect, send, answer), in seconds")
    webhook_max_response_bytes: int = Field(default=65_536, ge=0, le=10_485_760, description="Outbound webhooks: "
                                            "bytes of a receiver's answer read (the rest is dropped)")
    webhook_retry_base_seconds: float = Field(default=10, gt=0, description="Outbound webhooks: delay before the "
                                              "first retry; it doubles with each attempt (with jitter)")
    webhook_retry_max_delay_seconds: float = Field(default=3600, gt=0, description="Outbound webhooks: longest "
                                                   "delay between two attempts")
    webhook_retry_hours: float = Field(default=24, gt=0, description="Outbound webhooks: how long a delivery is "
                                       "retried after the event arrived before it is dead-lettered")
    webhook_disable_after_days: float = Field(default=5, gt=0, description="Outbound webhooks: a subscription "
                                              "failing without a success for this long is disabled "
                                              "(WebhookSubscriptionDisabled)")
    webhook_secret_grace_hours: float = Field(default=24, ge=0, le=720, description="Outbound webhooks: how long "
                                              "the previous signing secret still signs after a rotation (default "
                                              "of the rotation request)")
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list, description="Outbound webhooks: hosts (names or IP networks, e.g. `localhost`, "
        "`127.0.0.0/8`) a subscription may use although they resolve to private, loopback or link-local "
        "addresses, and over plain HTTP. Empty in production; development and tests list their own machine")
    # The one-request export and erasure of personal data asks the other services (decision 0093)
    onsite_url: str = Field(default="http://127.0.0.1:8002", description="Personal data: base URL of the onsite "
                            "service, asked by the one-request export and erasure")
    quality_url: str = Field(default="http://127.0.0.1:8003", description="Personal data: base URL of the "
                             "quality service, asked by the one-request export and erasure")
    feedback_url: str = Field(default="http://127.0.0.1:8004", description="Personal data: base URL of the "
                              "feedback service, asked by the one-request export and erasure")
    peer_request_attempts: int = Field(default=3, ge=1, le=10, description="Personal data: attempts of each "
                                       "request to another service (timeouts and 5xx are retried with backoff)")
    peer_request_timeout_s: float = Field(default=30.0, gt=0, le=600, description="Personal data: time limit of "
                                          "one attempt of a request to another service, in seconds (an export "
                                          "scans a service's documents for the person: longer than a lookup)")
    # Notifications to people (decision 0090)
    notify_adapter: Literal["apprise", "log"] = Field(
        default="log", description="Notifications: `apprise` sends e-mail (NOTIFY_EMAIL_URL), SMS (NOTIFY_SMS_URL) "
        "and WeCom / DingTalk / Feishu messages; `log` only writes them to the log (development)")
    notify_email_url: SecretStr | None = Field(
        default=None, description="Notifications: the SMTP server as an apprise URL, e.g. "
        "`mailtos://user:password@smtp.example.com` (STARTTLS) or `mailto://127.0.0.1:2525?mode=insecure` (the dev "
        "sink); the recipient is added as `to`")
    notify_email_from: str = Field(default="noreply@fieldservice.local",
                                   description="Notifications: the sender's e-mail address")
    notify_sender_name: str = Field(default="Field service", description="Notifications: the sender's name")
    notify_sms_url: SecretStr | None = Field(
        default=None, description="Notifications: an apprise URL of an SMS service with `{phone}` where the number "
        "goes, e.g. `twilio://SID:TOKEN@+15550000000/{phone}`; unset: phone numbers are not reachable")
    notify_messenger_schemes: list[str] = Field(
        default_factory=lambda: ["wecombot", "dingtalk", "feishu", "lark"],
        description="Notifications: apprise URL schemes a recipient's address may use (enterprise messengers); "
        "no other URL is ever called")
    notify_default_language: Language = Field(
        default=Language.ZH, description="Notifications: the language of recipients without one (zh or en)")
    notify_customer_window_start: time = Field(
        default=time(8, 0), description="Notifications: the customer's contact window opens at this site time (their "
        "region's zone, SITE_TIMEZONES); outside the window their messages wait queued")
    notify_customer_window_end: time = Field(
        default=time(20, 0), description="Notifications: the customer's contact window closes at this site time "
        "(before the opening: a window over midnight; equal: any time)")
    notify_worker_enabled: bool = Field(default=True, description="Notifications: run the sending worker in this "
                                        "process (off: the replica only queues messages)")
    notify_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="Notifications: how often the worker "
                                       "looks for due messages when idle, in seconds")
    notify_max_concurrency: int = Field(default=8, ge=1, le=64, description="Notifications: messages being sent at "
                                        "once per replica")
    notify_timeout_seconds: float = Field(default=30, gt=0, le=300, description="Notifications: time limit of one "
                                          "send, in seconds")
    notify_retry_base_seconds: float = Field(default=30, gt=0, description="Notifications: delay before the first "
                                             "retry; it doubles with each attempt (with jitter)")
    notify_retry_max_delay_seconds: float = Field(default=3600, gt=0, description="Notifications: longest delay "
                                                  "between two attempts")
    notify_max_attempts: int = Field(default=8, ge=1, le=100, description="Notifications: attempts before a "
                                     "message is `failed`")
    notify_lease_margin_seconds: float = Field(default=30, gt=0, le=3600, description="Notifications: a message "
                                               "being sent is leased for NOTIFY_TIMEOUT_SECONDS plus this; a replica "
                                               "that dies mid-send leaves it to another after the lease")
    notify_daily_log_each: bool = Field(default=False, description="Notifications: S20 also tells the service "
                                        "department of each daily log as it arrives (the daily digest goes anyway)")
    notify_digest_check_seconds: float = Field(default=300, gt=0, le=86400, description="Notifications: how often "
                                               "the S20 daily-log digest job looks for closed site days, in seconds")
    notify_digest_delay_minutes: int = Field(default=60, ge=0, le=1440, description="Notifications: a site day's "
                                             "daily-log digest goes this long after the day closes (site midnight of "
                                             "its region), so logs written late that night still count")
    notify_digest_lookback_days: int = Field(default=3, ge=1, le=31, description="Notifications: closed site days "
                                             "a digest is still sent for (after an outage of the job)")
    notify_retention_days: int = Field(default=400, ge=0, le=36500, description="Notifications: messages (their "
                                       "addresses and bodies) are deleted this many days after they were queued; "
                                       "0 keeps them")
    notify_retention_check_seconds: float = Field(default=3600, gt=0, le=86400, description="Notifications: how "
                                                  "often the retention job deletes old messages, in seconds")

    def development_secrets(self) -> list[str]:
        found = super().development_secrets()
        if any(is_development_secret(secret.get_secret_value()) for secret in self.crm_webhook_secrets):
            found.append("the development or a placeholder CRM webhook secret: set CRM_WEBHOOK_SECRETS")
        return found


@lru_cache
def get_settings() -> DispatchSettings:
    return DispatchSettings()
