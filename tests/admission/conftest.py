"""Fixtures of the admission tests: a valid submission to vary, and small helpers."""

from __future__ import annotations

import asyncio
import datetime
import itertools
from typing import Any

import pytest

from service.admission.service import today

_titles = itertools.count(1)


def submission(**overrides: Any) -> dict[str, Any]:
    """A request that screens clear: legal basis, resources, start far enough ahead, an unusual title."""
    n = next(_titles)
    body: dict[str, Any] = {
        "kind": "task", "list": "assisting",
        "title": f"第{n}号测试事项：社区协助开展独居老人用电安全宣传{n}",
        "content": f"每半年协助供电部门入户宣传用电安全常识，第{n}批。",
        "targets": ["430121001001"], "community_role": "assisting",
        "basis": "《湖南省实施〈中华人民共和国城市居民委员会组织法〉办法》", "basis_number": "第十条",
        "resources": {"funding_yuan": 10000, "funding_source": "县级财政", "staff": 1},
        "start_date": (today() + datetime.timedelta(days=120)).isoformat(),
        "justification": "安全宣传需要社区熟悉居民情况。",
    }
    body.update(overrides)
    return body


def rules_of(answer: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in answer["screening"]["findings"]}


@pytest.fixture
def body() -> Any:
    return submission


async def submit(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/admission-requests", headers=headers, json=submission(**overrides))
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def into_review(client: Any, reviewer: dict[str, str], request_id: int) -> None:
    r = await client.post(f"/api/v1/admission-requests/{request_id}/start-review", headers=reviewer)
    assert r.status_code == 200, r.text


async def settle() -> None:
    """Let a change notification reach the listener (it applies within a second)."""
    await asyncio.sleep(0.5)
