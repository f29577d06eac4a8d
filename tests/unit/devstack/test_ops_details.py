"""Small operator-facing details: a restarted server's port, `make token`'s claims, file limits."""

from __future__ import annotations

import base64
import json
import socket
import subprocess

import pytest
from pydantic import ValidationError

from devstack.servers import port_is_free
from devstack.stack import ROOT
from services.onsite.settings import OnsiteSettings
from services.quality.settings import QualitySettings
from shared.settings import MAX_UPLOAD_BYTES


def test_a_port_left_in_time_wait_by_a_stopped_server_is_free():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    connection, _ = server.accept()
    connection.close()  # the server closes first: its side of the connection waits in TIME_WAIT
    server.close()
    client.close()
    assert port_is_free(port)


def test_a_port_someone_listens_on_is_taken():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert not port_is_free(server.getsockname()[1])


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_make_token_passes_the_unit_and_region_claims():
    out = subprocess.run(["make", "-s", "token", "ROLE=regional_centre", "SUB=rc-east", "REGION=east",
                          "UNIT=service department"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    claims = _claims(out.strip().splitlines()[-1])
    assert (claims["sub"], claims["region"], claims["unit"]) == ("rc-east", "east", "service department")


@pytest.mark.parametrize("cls", [OnsiteSettings, QualitySettings])
def test_evidence_is_accepted_up_to_the_upload_limit_and_never_promised_beyond_it(cls):
    assert cls().evidence_max_bytes == cls().max_upload_bytes == MAX_UPLOAD_BYTES
    with pytest.raises(ValidationError, match="exceeds max_upload_bytes"):
        cls(evidence_max_bytes=MAX_UPLOAD_BYTES + 1)
