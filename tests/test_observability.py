"""The logging filter masks ID numbers of all six formats and labelled names, and keeps ids."""

from __future__ import annotations

import io
import json
import logging

import pytest

from observability import mask, masked_handler, request_id
from workflows.contract import workflow_id


@pytest.mark.parametrize(
    "number",
    [
        "520102198805170311",  # 居民身份证
        "52010219880517031X",
        "H12345678",  # 港澳居民来往内地通行证
        "M1234567801",
        "12345678",  # 台湾居民来往大陆通行证
        "810000199001011234",  # 港澳台居民居住证
        "ABC123456789012",  # 外国人永久居留身份证 (old)
        "933000199001011234",  # (new)
        "E12345678",  # 护照
        "G1234567",
    ],
)
def test_every_id_format_is_masked_in_free_text(number: str) -> None:
    masked = mask(f"lookup failed for {number}, retrying")
    assert number not in masked
    assert masked == "lookup failed for ***, retrying"


@pytest.mark.parametrize(
    "line",
    ["name=王㛃 signed in", '{"name": "阿依古丽·买买提"}', "'name': '王㛃'", "姓名：李建国 已登记"],
)
def test_labelled_names_are_masked(line: str) -> None:
    masked = mask(line)
    for name in ("王㛃", "阿依古丽·买买提", "李建国"):
        assert name not in masked


def test_identifiers_that_are_not_personal_survive() -> None:
    line = (
        f"{workflow_id('3f9a1c2b4d5e6f708192a3b4')} order SB3f9a1c2b4d5e6f708192a3b401 "
        "status MANUAL_REVIEW 2026-03-01T08:00:00+08:00 amount 87267 fen POST /api/v1/session 200"
    )
    assert mask(line) == line


def test_handler_writes_json_lines_with_the_request_id_and_masks_exceptions() -> None:
    stream = io.StringIO()
    handler = masked_handler("test")
    handler.setStream(stream)  # type: ignore[attr-defined]
    log = logging.getLogger("shebao.test.observability")
    log.addHandler(handler)
    log.propagate = False
    token = request_id.set("req-42")
    try:
        log.warning("sign-in for %s", "520102198805170311")
        try:
            raise ValueError("bad number 520102198805170311")
        except ValueError:
            log.exception("failed")
    finally:
        request_id.reset(token)
        log.removeHandler(handler)
        log.propagate = True
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["msg"] == "sign-in for ***"
    assert lines[0]["request_id"] == "req-42" and lines[0]["level"] == "WARNING"
    assert "ValueError" in lines[1]["exc"]
    assert "520102198805170311" not in stream.getvalue()
