"""Races, driven on two database connections at once (as two processes would)."""

from __future__ import annotations

import asyncio

import pytest

from service.core.audit import Actor
from service.core.clock import today
from service.core.db import connect
from service.core.errors import InvalidTransition, ValidationFailed
from service.secondments import service
from service.secondments.schemas import Organ, SecondmentCreate, SecondmentDecision
from tests.secondments.conftest import SONGYA, days

STREET = Actor(actor_type="system", actor_id=None, actor_name="test:星沙街道")
ORGDEPT = Actor(actor_type="system", actor_id=None, actor_name="test:县委组织部")


def _caller() -> service.Caller:
    return service.Caller(actor=STREET, client_id=None, organisation_level="street", home_jurisdiction="430121001",
                          may_submit=lambda code: code.startswith("430121001"), submits_somewhere=True)


def _request(worker: str) -> SecondmentCreate:
    return SecondmentCreate(
        organ=Organ(name="星沙街道办事处", level="street"), form="secondment", home_community_code=SONGYA,
        workers=[worker], purpose="并发测试", start_date=days(10), end_date=days(60), worker_consent=True,
        community_consent=True)


async def _in_transaction(database: str, work):
    conn = await connect(database)
    try:
        async with conn.transaction():
            return await work(conn)
    finally:
        await conn.close()


async def test_two_submissions_for_one_worker_on_two_connections_accept_one(database, db):
    results = await asyncio.gather(
        *(_in_transaction(database, lambda c: service.submit(c, caller=_caller(), data=_request("W21001001-10"),
                                                            today=today())) for _ in range(2)),
        return_exceptions=True)
    accepted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(accepted) == 1
    assert len(refused) == 1
    assert refused[0].extra["broken_rules"][0]["rule"] == "no_overlap"
    assert await db.fetchval("select count(*) from secondment_request where 'W21001001-10' = any(worker_refs)") == 1


@pytest.mark.parametrize("outcomes", [("approve", "reject"), ("approve", "approve")])
async def test_two_decisions_on_two_connections_exactly_one_wins(database, db, outcomes):
    created = await _in_transaction(database, lambda c: service.submit(
        c, caller=_caller(), data=_request("W21001001-11"), today=today()))
    results = await asyncio.gather(
        *(_in_transaction(database, lambda c, o=o: service.decide(
            c, actor=ORGDEPT, request_id=created.id, data=SecondmentDecision(outcome=o, reasons="并发"),
            today=today())) for o in outcomes),
        return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    lost = [r for r in results if isinstance(r, InvalidTransition)]
    assert len(lost) == 1
    assert await db.fetchval("select count(*) from audit_event where action in ('secondment.approve', "
                             "'secondment.reject') and subject_id = $1", str(created.id)) == 1
