"""The CRM webhook signature (HMAC-SHA256 over timestamp and body)."""

from __future__ import annotations

import pytest

from shared.api.problems import Unauthorized
from shared.api.webhook import sign, verify_signature

BODY = b'{"crm_reference": "R-1"}'
NOW = 1_800_000_000


def check(**kw):
    args = {"secrets": ["s1"], "timestamp": str(NOW), "signature": sign("s1", NOW, BODY), "body": BODY, "now": NOW}
    return verify_signature(**{**args, **kw})


def test_a_good_signature_passes():
    assert check() == NOW


@pytest.mark.parametrize(("change", "reason"), [
    ({"signature": sign("other", NOW, BODY)}, "does not match"),
    ({"body": BODY + b" "}, "does not match"),
    ({"timestamp": str(NOW - 301), "signature": sign("s1", NOW - 301, BODY)}, "replay window"),
    ({"timestamp": str(NOW + 301), "signature": sign("s1", NOW + 301, BODY)}, "replay window"),
    ({"timestamp": None}, "needs"),
    ({"signature": None}, "needs"),
    ({"timestamp": "yesterday"}, "Unix seconds"),
])
def test_bad_signatures_are_refused(change, reason):
    with pytest.raises(Unauthorized, match=reason):
        check(**change)


def test_either_secret_passes_during_rotation():
    assert check(secrets=["new", "s1"]) == NOW
    with pytest.raises(Unauthorized):
        check(secrets=["new", "newer"])
