"""A typed client for departments: submit admission requests, read their status, check a matter first
(`check_matter`, and `check_matters` for many at once through the batch check).

    from service.client import Client
    with Client("https://registry.example.gov.cn", token="mr_...") as mr:
        answer = mr.submit(request, idempotency_key="2026-0042")
        print(answer.status, answer.screening.verdict if answer.screening else None)

`AsyncClient` has the same methods, awaited. Errors come back as `ProblemError` carrying the RFC 9457
problem (status, title, detail, the rule and the invalid fields).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec

from service.admission.schemas import (
    AdmissionRequestPage,
    AdmissionRequestRead,
    AdmissionSubmission,
    CallbackRead,
    Screening,
    TransitionRead,
)
from service.core.errors import Problem
from service.registry.schemas import BATCH_MAX, CheckAnswer, CheckBatchAnswer, CheckBatchRequest, CheckRequest

T = TypeVar("T")
BASE = "/api/v1/admission-requests"
Submission = AdmissionSubmission | dict[str, Any]
Question = CheckRequest | dict[str, Any]
CHECKS = "/api/v1/checks"


class ProblemError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.status} {problem.title}: {problem.detail or ''}")
        self.problem = problem


def load_submission(path: str | Path) -> AdmissionSubmission:
    """A submission from a JSON file, validated as the server will (unknown fields are refused)."""
    return msgspec.json.decode(Path(path).read_bytes(), type=AdmissionSubmission)


def _body(submission: Submission) -> bytes:
    if isinstance(submission, AdmissionSubmission):
        return msgspec.json.encode(submission)
    return msgspec.json.encode(msgspec.convert(submission, AdmissionSubmission))


def _decode(response: httpx.Response, into: type[T]) -> T:
    if response.status_code >= 400:
        try:
            problem = msgspec.json.decode(response.content, type=Problem)
        except msgspec.DecodeError:
            problem = Problem(type="about:blank", title=response.reason_phrase, status=response.status_code,
                              detail=response.text[:500])
        raise ProblemError(problem)
    return msgspec.json.decode(response.content, type=into)


def question_of(q: Question) -> CheckRequest:
    return q if isinstance(q, CheckRequest) else msgspec.convert(q, CheckRequest)


def _batches(questions: list[Question]) -> list[bytes]:
    """The questions as batch bodies of at most BATCH_MAX each, in order (validated as the server will)."""
    checked = [question_of(q) for q in questions]
    return [msgspec.json.encode(CheckBatchRequest(checks=checked[i:i + BATCH_MAX]))
            for i in range(0, len(checked), BATCH_MAX)]


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json", "Content-Type": "application/json"}


def _submit_headers(idempotency_key: str | None) -> dict[str, str]:
    # a key by default, so that an automatic retry by the caller never submits twice
    return {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}


class Client:
    """Synchronous client (httpx.Client). Pass `http=` to reuse a configured httpx client."""

    def __init__(self, base_url: str, *, token: str, timeout: float = 30.0, http: httpx.Client | None = None) -> None:
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._headers = _headers(token)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def submit(self, submission: Submission, *, idempotency_key: str | None = None,
               draft: bool = False) -> AdmissionRequestRead:
        r = self._http.post(BASE, content=_body(submission), params={"draft": "true"} if draft else None,
                            headers={**self._headers, **_submit_headers(idempotency_key)})
        return _decode(r, AdmissionRequestRead)

    def status(self, request_id: int) -> AdmissionRequestRead:
        return _decode(self._http.get(f"{BASE}/{request_id}", headers=self._headers), AdmissionRequestRead)

    def history(self, request_id: int) -> list[TransitionRead]:
        return _decode(self._http.get(f"{BASE}/{request_id}/history", headers=self._headers), list[TransitionRead])

    def list_requests(self, *, status: str | None = None, overdue: bool = False) -> AdmissionRequestPage:
        params: dict[str, str] = {"overdue": "true"} if overdue else {}
        if status:
            params["status"] = status
        return _decode(self._http.get(BASE, params=params, headers=self._headers), AdmissionRequestPage)

    def check(self, submission: Submission) -> dict[str, Screening]:
        """Screen a matter without submitting it: the result per county."""
        r = self._http.post(f"{BASE}/screen", content=_body(submission), headers=self._headers)
        return _decode(r, dict[str, Screening])

    def check_matter(self, question: Question) -> CheckAnswer:
        """The enforcement check: may this department put this matter on this community in this role?"""
        r = self._http.post(CHECKS, content=msgspec.json.encode(question_of(question)), headers=self._headers)
        return _decode(r, CheckAnswer)

    def check_matters(self, questions: list[Question]) -> list[CheckAnswer]:
        """Many checks (e.g. one matter for every community of a county): one call per 500, answers in order."""
        answers: list[CheckAnswer] = []
        for body in _batches(questions):
            r = self._http.post(f"{CHECKS}/batch", content=body, headers=self._headers)
            answers.extend(_decode(r, CheckBatchAnswer).answers)
        return answers

    def withdraw(self, request_id: int, *, reason: str | None = None) -> AdmissionRequestRead:
        r = self._http.post(f"{BASE}/{request_id}/withdraw", json={"reason": reason}, headers=self._headers)
        return _decode(r, AdmissionRequestRead)

    def register_callback(self, url: str) -> CallbackRead:
        r = self._http.put("/api/v1/callback", json={"url": url}, headers=self._headers)
        return _decode(r, CallbackRead)


class AsyncClient:
    """Asynchronous client (httpx.AsyncClient), the same methods awaited."""

    def __init__(self, base_url: str, *, token: str, timeout: float = 30.0,
                 http: httpx.AsyncClient | None = None) -> None:
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._own = http is None
        self._headers = _headers(token)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own:
            await self._http.aclose()

    async def submit(self, submission: Submission, *, idempotency_key: str | None = None,
                     draft: bool = False) -> AdmissionRequestRead:
        r = await self._http.post(BASE, content=_body(submission), params={"draft": "true"} if draft else None,
                                  headers={**self._headers, **_submit_headers(idempotency_key)})
        return _decode(r, AdmissionRequestRead)

    async def status(self, request_id: int) -> AdmissionRequestRead:
        return _decode(await self._http.get(f"{BASE}/{request_id}", headers=self._headers), AdmissionRequestRead)

    async def history(self, request_id: int) -> list[TransitionRead]:
        r = await self._http.get(f"{BASE}/{request_id}/history", headers=self._headers)
        return _decode(r, list[TransitionRead])

    async def list_requests(self, *, status: str | None = None, overdue: bool = False) -> AdmissionRequestPage:
        params: dict[str, str] = {"overdue": "true"} if overdue else {}
        if status:
            params["status"] = status
        return _decode(await self._http.get(BASE, params=params, headers=self._headers), AdmissionRequestPage)

    async def check(self, submission: Submission) -> dict[str, Screening]:
        r = await self._http.post(f"{BASE}/screen", content=_body(submission), headers=self._headers)
        return _decode(r, dict[str, Screening])

    async def check_matter(self, question: Question) -> CheckAnswer:
        r = await self._http.post(CHECKS, content=msgspec.json.encode(question_of(question)), headers=self._headers)
        return _decode(r, CheckAnswer)

    async def check_matters(self, questions: list[Question]) -> list[CheckAnswer]:
        answers: list[CheckAnswer] = []
        for body in _batches(questions):
            r = await self._http.post(f"{CHECKS}/batch", content=body, headers=self._headers)
            answers.extend(_decode(r, CheckBatchAnswer).answers)
        return answers

    async def withdraw(self, request_id: int, *, reason: str | None = None) -> AdmissionRequestRead:
        r = await self._http.post(f"{BASE}/{request_id}/withdraw", json={"reason": reason}, headers=self._headers)
        return _decode(r, AdmissionRequestRead)

    async def register_callback(self, url: str) -> CallbackRead:
        r = await self._http.put("/api/v1/callback", json={"url": url}, headers=self._headers)
        return _decode(r, CallbackRead)


def to_json(value: Any) -> str:
    """Pretty JSON of a response (for the command line)."""
    return json.dumps(msgspec.to_builtins(value), ensure_ascii=False, indent=2)
