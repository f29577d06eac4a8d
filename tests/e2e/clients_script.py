"""An integrator's script written against the generated clients only (tests/e2e/test_generated_clients.py).

The test generates the four clients (`dispatch_client`, ...) from the services' OpenAPI documents,
checks this file with `mypy --strict` and runs it against the end-to-end stack:
`python clients_script.py '<json: urls, tokens, fresh_case, visit>'`. It exits non-zero (an
AssertionError) when an answer is not what the documents promise.
"""

from __future__ import annotations

import json
import sys
from typing import TypedDict
from uuid import UUID

import httpx
from dispatch_client import AuthenticatedClient as DispatchClient
from dispatch_client.api.dispatch_s6 import dispatch_case
from dispatch_client.api.service_cases import acknowledge, list_cases
from dispatch_client.models import DispatchCommand, ProblemDetail, ServiceCaseRead, ServiceCaseReadPage
from feedback_client import AuthenticatedClient as FeedbackClient
from feedback_client.api.follow_up_calls import list_calls
from feedback_client.models import FollowUpCallReadPage
from onsite_client import AuthenticatedClient as OnsiteClient
from onsite_client.api.closing import report_pdf
from onsite_client.api.site_visits import list_visits
from onsite_client.models import ProblemDetail as OnsiteProblem
from onsite_client.models import SiteVisitReadPage
from onsite_client.types import File
from quality_client import AuthenticatedClient as QualityClient
from quality_client.api.quality_issues import list_issues
from quality_client.models import QualityIssueReadPage

TIMEOUT = httpx.Timeout(60.0)  # the report is rendered on request; a loaded test machine is slow


class Inputs(TypedDict):
    urls: dict[str, str]
    tokens: dict[str, str]
    fresh_case: str
    visit: str
    case: str


def refused_dispatch(dispatch: DispatchClient, case_id: UUID) -> list[str]:
    """The dispatch gate refuses a fresh case: a typed problem naming every missing condition."""
    acknowledged = acknowledge.sync(case_id, client=dispatch)
    assert isinstance(acknowledged, ServiceCaseRead), acknowledged
    refused = dispatch_case.sync(case_id, client=dispatch, body=DispatchCommand())  # the body is optional
    assert isinstance(refused, ProblemDetail), refused
    assert refused.status == 409 and refused.type_.endswith("/gate-refused"), refused
    missing = refused.missing_conditions
    assert isinstance(missing, list) and missing, refused
    return missing


def service_report(onsite: OnsiteClient, visit_id: UUID) -> bytes:
    """The completed visit's service report, a PDF."""
    report = report_pdf.sync(visit_id, client=onsite)
    assert isinstance(report, File), report
    content = report.payload.read()
    assert content.startswith(b"%PDF-"), content[:20]
    return content


def every_case(dispatch: DispatchClient) -> list[ServiceCaseRead]:
    """Two pages of one case each, following `next_cursor`."""
    first = list_cases.sync(client=dispatch, limit=1)
    assert isinstance(first, ServiceCaseReadPage), first
    assert len(first.items) == 1 and first.next_cursor is not None, first
    second = list_cases.sync(client=dispatch, limit=1, cursor=first.next_cursor)
    assert isinstance(second, ServiceCaseReadPage), second
    assert len(second.items) == 1 and second.items[0].id != first.items[0].id
    return [*first.items, *second.items]


def visits_of(onsite: OnsiteClient, case_id: UUID) -> list[UUID]:
    page = list_visits.sync(client=onsite, case_id=case_id, limit=10)
    assert isinstance(page, SiteVisitReadPage), page
    assert page.next_cursor is None
    return [visit.id for visit in page.items]


def first_pages(quality: QualityClient, feedback: FeedbackClient) -> int:
    """The first page of quality issues and of follow-up calls: the same `Page` shape in every service."""
    issues = list_issues.sync(client=quality, limit=5)
    assert isinstance(issues, QualityIssueReadPage), issues
    calls = list_calls.sync(client=feedback, limit=5)
    assert isinstance(calls, FollowUpCallReadPage), calls
    return len(issues.items) + len(calls.items)


def unknown_visit(onsite: OnsiteClient, visit_id: UUID) -> int:
    """A visit that does not exist: the onsite client's own typed problem."""
    missing = report_pdf.sync(visit_id, client=onsite)
    assert isinstance(missing, OnsiteProblem) and missing.status == 404, missing
    return missing.status


def main(raw: str) -> None:
    given: Inputs = json.loads(raw)
    urls, tokens = given["urls"], given["tokens"]
    with DispatchClient(base_url=urls["dispatch"], token=tokens["dispatcher"], timeout=TIMEOUT) as dispatch, \
            OnsiteClient(base_url=urls["onsite"], token=tokens["dispatcher"], timeout=TIMEOUT) as onsite:
        missing = refused_dispatch(dispatch, UUID(given["fresh_case"]))
        pdf = service_report(onsite, UUID(given["visit"]))
        cases = every_case(dispatch)
        visits = visits_of(onsite, UUID(given["case"]))
        assert UUID(given["visit"]) in visits, visits
        unknown_visit(onsite, UUID(int=0))
    with QualityClient(base_url=urls["quality"], token=tokens["admin"], timeout=TIMEOUT) as quality, \
            FeedbackClient(base_url=urls["feedback"], token=tokens["admin"], timeout=TIMEOUT) as feedback:
        first_pages(quality, feedback)
    print(json.dumps({"missing_conditions": missing, "pdf_bytes": len(pdf), "cases": [str(c.id) for c in cases]}))


if __name__ == "__main__":
    main(sys.argv[1])
