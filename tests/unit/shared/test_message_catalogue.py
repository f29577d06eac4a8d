"""The Chinese catalogue covers every message a client can read (decision 0094).

Keys come from the code itself (Babel's extractor over every `msg()`, every StrEnum value, the
pydantic validation errors a request can meet), so a new message without a translation fails here.
"""

# ruff: noqa: RUF001  # the expected Chinese uses its own punctuation (full-width colons, semicolons)

from __future__ import annotations

import string

import pytest
from babel.messages.catalog import Catalog

from devstack import messages as catalogue
from shared.i18n import (
    ENUM_CONTEXT,
    LABEL_CONTEXT,
    VALIDATION_CONTEXT,
    enum_labels,
    negotiate,
    placeholders,
    translate,
    validation_message,
)
from shared.messages import Joined, Msg, msg


@pytest.fixture(scope="module")
def zh() -> Catalog:
    return catalogue.read_catalogue("zh")


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str | None, str], list[str]]:
    return catalogue.extract()


def test_the_catalogue_has_every_key_of_the_code_and_no_other(
        zh: Catalog, extracted: dict[tuple[str | None, str], list[str]]) -> None:
    known = {(m.context, str(m.id)) for m in zh if m.id}
    assert not sorted(set(extracted) - known, key=str), "run `make messages` and translate the new keys"
    assert not sorted(known - set(extracted), key=str), "run `make messages`: the catalogue keeps keys the code lost"


def test_every_message_has_a_chinese_translation(zh: Catalog) -> None:
    lacking = [(m.context, m.id) for m in zh if m.id and (not str(m.string).strip() or m.fuzzy)]
    assert not lacking, f"{len(lacking)} messages lack a translation: {lacking[:10]}"


def test_translations_keep_the_placeholders_of_the_english(zh: Catalog) -> None:
    wrong = []
    for m in zh:
        if not m.id:
            continue
        english, chinese = placeholders(str(m.id)), placeholders(str(m.string))
        if m.context and m.context.startswith(VALIDATION_CONTEXT):
            # pydantic's templates carry English-only fields (`expected_plural`): a subset suffices.
            if not chinese <= english:
                wrong.append((m.context, m.id, chinese - english))
        elif english != chinese:
            wrong.append((m.context, m.id, english ^ chinese))
        list(string.Formatter().parse(str(m.string)))  # and the translation is a valid template
    assert not wrong, wrong


def test_every_enumeration_value_has_a_chinese_label(zh: Catalog) -> None:
    labels = {(m.context, str(m.id)): str(m.string) for m in zh if m.id}
    enums = catalogue.enumerations()
    assert {"CaseStatus", "TaskStatus", "IssueStatus", "Role", "CallStatus"} <= set(enums)
    for name, values in enums.items():
        for value in values:
            assert labels.get((ENUM_CONTEXT + name, value)), f"{name}.{value} has no Chinese label"
    both = enum_labels("CaseStatus", enums["CaseStatus"])
    assert both["en"]["on_site"] == "On site" and both["zh"]["on_site"] == "在现场"
    # the inline choices (Literal[...]) of models and events: a label per value
    choices = catalogue.literal_choices()
    assert {"shipped_back", "critical", "customer_contact", "five_whys"} <= set(choices)
    for value in choices:
        assert labels.get((LABEL_CONTEXT, value)), f"the choice {value!r} has no Chinese label"
    assert enum_labels(None, ["received", "shipped_back"])["zh"] == {"received": "已接收", "shipped_back": "已发回"}


def test_the_extractor_finds_the_messages_of_every_service(extracted: dict[tuple[str | None, str], list[str]]) -> None:
    files = {f for places in extracted.values() for f in places}
    for area in ("services/dispatch/", "services/onsite/", "services/quality/", "services/feedback/", "shared/"):
        assert any(f.startswith(area) for f in files), area
    assert (None, "S33: the regional service centre has not been informed") in extracted
    assert (None, "S3: engineer {engineer_id} is not active") in extracted


def test_a_message_is_its_english_text_and_renders_in_chinese() -> None:
    m = msg("S3: engineer {engineer_id} is not active", engineer_id="E-7")
    assert m == "S3: engineer E-7 is not active" and isinstance(m, Msg) and isinstance(m, str)
    assert translate(m, "en") == "S3: engineer E-7 is not active"
    assert translate(m, "zh") == "S3：工程师 E-7 不在岗"
    joined = Joined([msg("S14: PPE not confirmed"), msg("S14: helmet not confirmed")], "; ")
    assert joined == "S14: PPE not confirmed; S14: helmet not confirmed"
    assert translate(joined, "zh") == "S14：未确认穿戴防护服；S14：未确认佩戴安全帽"
    # an enumeration value as a parameter is shown by its label
    from services.onsite.work.models import TaskStatus

    assert translate(msg("the task is already {status}", status=TaskStatus.DONE), "zh") == "该任务已为 已完成"
    # a message unknown to the catalogue stays English rather than failing
    assert translate(msg("no such message {x}", x=1), "zh") == "no such message 1"


def test_validation_errors_translate_by_type_and_a_validators_own_message() -> None:
    assert validation_message("missing", "Field required", None, "zh") == "缺少必填字段"
    assert validation_message("string_too_long", "…", {"max_length": 5}, "zh") == "字符串至多 5 个字符"
    error = ValueError(msg("end must be after start"))
    assert validation_message("value_error", "Value error, end must be after start", {"error": error}, "zh") == \
        "值错误：结束时间须晚于开始时间"
    assert validation_message("no_such_type", "Something", None, "zh") == "Something"
    assert validation_message("missing", "Field required", None, "en") == "Field required"


@pytest.mark.parametrize(("header", "default", "chosen"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "en", "zh"),
    ("en-US,en;q=0.9", "zh", "en"),
    ("zh-Hans-CN", "en", "zh"),
    ("en;q=0.4, zh-TW;q=0.8", "en", "zh"),
    ("fr-FR", "en", "en"),
    ("fr-FR", "zh", "zh"),
    (None, "zh", "zh"),
    ("zh;q=0, en", "zh", "en"),
])
def test_accept_language_chooses_zh_or_en(header: str | None, default: str, chosen: str) -> None:
    assert negotiate(header, default) == chosen
