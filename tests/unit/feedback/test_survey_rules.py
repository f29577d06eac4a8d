"""Survey rules without a server: questionnaire shape, answers that fit, complaints in answers."""

from __future__ import annotations

import pytest

from services.feedback.surveys.domain import (
    check_answers,
    complaint_findings,
    lowest_score,
    measured_scores,
    questionnaire_problems,
)
from shared.api.problems import InvalidInput

QUESTIONS = [
    {"id": "overall", "type": "scale_1_5", "measure": "csat", "text_en": "Overall"},
    {"id": "recommend", "type": "nps_0_10", "measure": "nps", "text_en": "Recommend"},
    {"id": "on_time", "type": "choice", "text_en": "On time", "choices": [
        {"value": "yes"}, {"value": "very_late", "complaint": True}]},
    {"id": "comment", "type": "free_text", "required": False, "text_en": "Comment"},
]


def answers(overall=5, recommend=9, on_time="yes", **extra):
    result = [{"question_id": "overall", "value": overall}, {"question_id": "recommend", "value": recommend},
              {"question_id": "on_time", "value": on_time}]
    if "comment" in extra:
        result.append({"question_id": "comment", "value": extra["comment"],
                       "complaint": extra.get("complaint", False)})
    return result


def test_fitting_answers_pass():
    check_answers("follow-up", 1, QUESTIONS, answers(comment="fine"))


@pytest.mark.parametrize(("bad", "field"), [
    ({"overall": 0}, "answers.overall"),
    ({"overall": "5"}, "answers.overall"),
    ({"overall": True}, "answers.overall"),
    ({"recommend": 11}, "answers.recommend"),
    ({"on_time": "sometimes"}, "answers.on_time"),
])
def test_answers_that_do_not_fit_name_the_question(bad, field):
    with pytest.raises(InvalidInput) as refused:
        check_answers("follow-up", 1, QUESTIONS, answers(**bad))
    assert [e["field"] for e in refused.value.extra["errors"]] == [field]
    assert field.removeprefix("answers.") in refused.value.detail


def test_unknown_duplicate_and_missing_questions_are_all_named():
    given = [{"question_id": "overall", "value": 5}, {"question_id": "overall", "value": 4},
             {"question_id": "colour", "value": "red"}, {"question_id": "comment", "value": " "}]
    with pytest.raises(InvalidInput) as refused:
        check_answers("follow-up", 2, QUESTIONS, given)
    errors = {e["field"]: e["message"] for e in refused.value.extra["errors"]}
    assert errors["answers.colour"] == "no such question in follow-up version 2"
    assert "answered twice" in errors["answers.overall"]
    assert "text" in errors["answers.comment"]
    assert errors["answers.recommend"] == errors["answers.on_time"] == "required question not answered"


def test_questionnaire_shape_problems():
    assert questionnaire_problems(QUESTIONS) == []
    problems = questionnaire_problems([
        {"id": "a", "type": "choice", "choices": [{"value": "x"}]},
        {"id": "a", "type": "free_text", "measure": "csat", "choices": [{"value": "x"}]},
        {"id": "b", "type": "scale_1_5", "measure": "nps"},
        {"id": "c", "type": "nps_0_10", "measure": "nps"},
        {"id": "d", "type": "nps_0_10", "measure": "nps"},
    ])
    assert problems == [
        "question id 'a' is used twice",
        "question 'a': a choice question needs at least two choices",
        "question 'a': only choice questions have choices",
        "question 'a': the CSAT measure needs a scale_1_5 question",
        "question 'b': the NPS measure needs a nps_0_10 question",
        "at most one question may carry the nps measure",
    ]


def test_measured_scores_and_lowest_score():
    scores = measured_scores(QUESTIONS, answers(overall=4, recommend=7))
    assert (scores.csat, scores.nps) == (4, 7)
    assert lowest_score(QUESTIONS, answers(overall=2)) == 2.0
    assert lowest_score([QUESTIONS[1]], [{"question_id": "recommend", "value": 3}]) is None


@pytest.mark.parametrize(("given", "expected"), [
    (answers(), []),
    (answers(overall=2), ["Overall: 2/5"]),
    (answers(overall=3), []),                       # the threshold itself is not a complaint
    (answers(recommend=4), ["Recommend: 4/10"]),
    (answers(recommend=5), []),
    (answers(on_time="very_late"), ["On time: very_late"]),
    (answers(comment="rude engineer", complaint=True), ["Comment: rude engineer"]),
    (answers(comment="all good"), []),
])
def test_complaints_come_from_low_scores_complaint_choices_and_marked_answers(given, expected):
    assert complaint_findings(QUESTIONS, given, scale_threshold=3, nps_threshold=5) == expected
