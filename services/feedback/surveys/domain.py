"""Pure rules of surveys: questionnaire shape, answers that fit a version, complaints in the answers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.messages import msg
from shared.problems import InvalidInput


class QuestionType(StrEnum):
    SCALE_1_5 = "scale_1_5"
    NPS_0_10 = "nps_0_10"
    CHOICE = "choice"
    FREE_TEXT = "free_text"


MAX_FREE_TEXT = 2000


def questionnaire_problems(questions: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a questionnaire's questions (empty when it is well formed)."""
    problems: list[str] = []
    ids = [q["id"] for q in questions]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(msg("question id {dup!r} is used twice", dup=dup))
    for q in questions:
        qtype, measure = QuestionType(q["type"]), q.get("measure")
        if qtype is QuestionType.CHOICE and len(q.get("choices") or []) < 2:
            problems.append(msg("question {id!r}: a choice question needs at least two choices", id=q['id']))
        if qtype is not QuestionType.CHOICE and q.get("choices"):
            problems.append(msg("question {id!r}: only choice questions have choices", id=q['id']))
        if measure == "csat" and qtype is not QuestionType.SCALE_1_5:
            problems.append(msg("question {id!r}: the CSAT measure needs a scale_1_5 question", id=q['id']))
        if measure == "nps" and qtype is not QuestionType.NPS_0_10:
            problems.append(msg("question {id!r}: the NPS measure needs a nps_0_10 question", id=q['id']))
    for measure in ("csat", "nps"):
        if sum(1 for q in questions if q.get("measure") == measure) > 1:
            problems.append(msg("at most one question may carry the {measure} measure", measure=measure))
    return problems


def _answer_problem(question: dict[str, Any], value: Any) -> str | None:
    qtype = QuestionType(question["type"])
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if qtype is QuestionType.SCALE_1_5 and not (is_int and 1 <= value <= 5):
        return "needs a whole number from 1 to 5"
    if qtype is QuestionType.NPS_0_10 and not (is_int and 0 <= value <= 10):
        return "needs a whole number from 0 to 10"
    if qtype is QuestionType.CHOICE:
        allowed = [c["value"] for c in question.get("choices", [])]
        if value not in allowed:
            return f"needs one of {', '.join(allowed)}"
    if qtype is QuestionType.FREE_TEXT and not (isinstance(value, str) and 0 < len(value.strip()) <= MAX_FREE_TEXT):
        return f"needs a text of 1 to {MAX_FREE_TEXT} characters"
    return None


def check_answers(questionnaire_id: str, version: int, questions: list[dict[str, Any]],
                  answers: list[dict[str, Any]]) -> None:
    """Refuse (422) answers that do not fit this questionnaire version, naming every offending question."""
    by_id = {q["id"]: q for q in questions}
    errors: list[dict[str, str]] = []
    seen: set[str] = set()
    for a in answers:
        qid = a["question_id"]
        if qid in seen:
            errors.append({"field": f"answers.{qid}", "message": "answered twice"})
            continue
        seen.add(qid)
        question = by_id.get(qid)
        if question is None:
            errors.append({"field": f"answers.{qid}",
                           "message": f"no such question in {questionnaire_id} version {version}"})
            continue
        problem = _answer_problem(question, a["value"])
        if problem:
            errors.append({"field": f"answers.{qid}", "message": f"{question['type']} question {problem}"})
    for q in questions:
        if q.get("required", True) and q["id"] not in seen:
            errors.append({"field": f"answers.{q['id']}", "message": "required question not answered"})
    if errors:
        named = ", ".join(e["field"].removeprefix("answers.") for e in errors)
        raise InvalidInput(msg("answers do not fit {questionnaire_id} version {version}: {named}",
            questionnaire_id=questionnaire_id, version=version, named=named),
                           errors=errors, field=errors[0]["field"])


@dataclass(frozen=True)
class Scores:
    csat: int | None
    nps: int | None


def measured_scores(questions: list[dict[str, Any]], answers: list[dict[str, Any]]) -> Scores:
    """The answers to the questions carrying the CSAT and NPS measures."""
    values = {a["question_id"]: a["value"] for a in answers}
    found: dict[str, int | None] = {"csat": None, "nps": None}
    for q in questions:
        if q.get("measure") in found and q["id"] in values:
            found[q["measure"]] = values[q["id"]]
    return Scores(csat=found["csat"], nps=found["nps"])


def complaint_findings(questions: list[dict[str, Any]], answers: list[dict[str, Any]], *,
                       scale_threshold: int, nps_threshold: int) -> list[str]:
    """S34: what in these answers goes back to quality: low scores, complaint choices, marked answers."""
    by_id = {q["id"]: q for q in questions}
    findings: list[str] = []
    for a in answers:
        q = by_id[a["question_id"]]
        qtype, value, label = QuestionType(q["type"]), a["value"], q.get("text_en") or q["id"]
        if qtype is QuestionType.SCALE_1_5 and value < scale_threshold:
            findings.append(f"{label}: {value}/5")
        elif qtype is QuestionType.NPS_0_10 and value < nps_threshold:
            findings.append(f"{label}: {value}/10")
        elif (qtype is QuestionType.CHOICE and any(c["value"] == value and c.get("complaint")
                                                  for c in q.get("choices", []))) or a.get("complaint"):
            findings.append(f"{label}: {value}")
    return findings


def lowest_score(questions: list[dict[str, Any]], answers: list[dict[str, Any]]) -> float | None:
    """The lowest 1-5 score of the answers, for the complaint's score."""
    scale = {q["id"] for q in questions if q["type"] == QuestionType.SCALE_1_5}
    scores = [a["value"] for a in answers if a["question_id"] in scale]
    return float(min(scores)) if scores else None
