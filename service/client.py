"""A typed client for departments: submit admission requests, read their status, check a matter first
(`check_matter`, and `check_matters` for many at once through the batch check).

    from service.client import Client
    with Client("https://registry.example.gov.cn", token="mr_...") as mr:
        answer = mr.submit(request, idempotency_key="2026-0042")
        print(answer.status, answer.screening.verdict if answer.screening else None)

`AsyncClient` has the same methods, awaited: each operation is written once (a generator of the requests it
needs) and run by either. Errors come back as `ProblemError` carrying the RFC 9457
problem (status, title, detail, the rule and the invalid fields).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar

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
P = ParamSpec("P")
R = TypeVar("R")
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


class _Req(NamedTuple):
    method: str
    path: str
    content: bytes | None = None
    params: dict[str, str] | None = None
    headers: dict[str, str] | None = None


# Each operation is written once, without I/O: a generator that yields the requests it needs and is sent their
# responses; `Client` runs it with httpx.Client, `AsyncClient` with httpx.AsyncClient.
Op = Generator[_Req, httpx.Response, T]


def _submit(submission: Submission, *, idempotency_key: str | None = None,
            draft: bool = False) -> Op[AdmissionRequestRead]:
    """Submit an admission request (a draft with `draft=True`); retried safely under the same key."""
    r = yield _Req("POST", BASE, _body(submission), {"draft": "true"} if draft else None,
                   _submit_headers(idempotency_key))
    return _decode(r, AdmissionRequestRead)


def _status(request_id: int) -> Op[AdmissionRequestRead]:
    """The request as it stands: state, screening, deadlines."""
    return _decode((yield _Req("GET", f"{BASE}/{request_id}")), AdmissionRequestRead)


def _history(request_id: int) -> Op[list[TransitionRead]]:
    """Every change of state of the request, oldest first."""
    return _decode((yield _Req("GET", f"{BASE}/{request_id}/history")), list[TransitionRead])


def _list_requests(*, status: str | None = None, overdue: bool = False) -> Op[AdmissionRequestPage]:
    """The caller's requests, optionally by state or only those past their decision date."""
    params: dict[str, str] = {"overdue": "true"} if overdue else {}
    if status:
        params["status"] = status
    return _decode((yield _Req("GET", BASE, params=params)), AdmissionRequestPage)


def _check(submission: Submission) -> Op[dict[str, Screening]]:
    """Screen a matter without submitting it: the result per county."""
    return _decode((yield _Req("POST", f"{BASE}/screen", _body(submission))), dict[str, Screening])


def _check_matter(question: Question) -> Op[CheckAnswer]:
    """The enforcement check: may this department put this matter on this community in this role?"""
    return _decode((yield _Req("POST", CHECKS, msgspec.json.encode(question_of(question)))), CheckAnswer)


def _check_matters(questions: list[Question]) -> Op[list[CheckAnswer]]:
    """Many checks (e.g. one matter for every community of a county): one call per 500, answers in order."""
    answers: list[CheckAnswer] = []
    for body in _batches(questions):
        answers.extend(_decode((yield _Req("POST", f"{CHECKS}/batch", body)), CheckBatchAnswer).answers)
    return answers


def _withdraw(request_id: int, *, reason: str | None = None) -> Op[AdmissionRequestRead]:
    """Withdraw a request not yet decided."""
    r = yield _Req("POST", f"{BASE}/{request_id}/withdraw", msgspec.json.encode({"reason": reason}))
    return _decode(r, AdmissionRequestRead)


def _register_callback(url: str) -> Op[CallbackRead]:
    """Where to deliver the department's notices (https, a public address); answers the signing secret."""
    r = yield _Req("PUT", "/api/v1/callback", msgspec.json.encode({"url": url}))
    return _decode(r, CallbackRead)


def _named(run: R, op: Callable[..., Any]) -> R:
    run.__name__ = run.__qualname__ = op.__name__.lstrip("_")  # type: ignore[attr-defined]
    run.__doc__ = op.__doc__
    return run


def _sync(op: Callable[P, Op[T]]) -> Callable[Concatenate[Client, P], T]:
    def run(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        steps = op(*args, **kwargs)
        try:
            req = next(steps)
            while True:
                req = steps.send(self._http.request(req.method, req.path, content=req.content, params=req.params,
                                                    headers={**self._headers, **(req.headers or {})}))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
    return _named(run, op)


def _async(op: Callable[P, Op[T]]) -> Callable[Concatenate[AsyncClient, P], Awaitable[T]]:
    async def run(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        steps = op(*args, **kwargs)
        try:
            req = next(steps)
            while True:
                response = await self._http.request(req.method, req.path, content=req.content, params=req.params,
                                                    headers={**self._headers, **(req.headers or {})})
                req = steps.send(response)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
    return _named(run, op)


class Client:
    """Synchronous client (httpx.Client). Pass `http=` to reuse a configured httpx client (it stays yours:
    `close()` closes only a client this one made)."""

    def __init__(self, base_url: str, *, token: str, timeout: float = 30.0, http: httpx.Client | None = None) -> None:
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._own = http is None
        self._headers = _headers(token)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own:
            self._http.close()

    submit = _sync(_submit)
    status = _sync(_status)
    history = _sync(_history)
    list_requests = _sync(_list_requests)
    check = _sync(_check)
    check_matter = _sync(_check_matter)
    check_matters = _sync(_check_matters)
    withdraw = _sync(_withdraw)
    register_callback = _sync(_register_callback)


class AsyncClient:
    """Asynchronous client (httpx.AsyncClient), the same methods awaited; `http=` as for `Client`."""

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

    submit = _async(_submit)
    status = _async(_status)
    history = _async(_history)
    list_requests = _async(_list_requests)
    check = _async(_check)
    check_matter = _async(_check_matter)
    check_matters = _async(_check_matters)
    withdraw = _async(_withdraw)
    register_callback = _async(_register_callback)


def to_json(value: Any) -> str:
    """Pretty JSON of a response (for the command line)."""
    return json.dumps(msgspec.to_builtins(value), ensure_ascii=False, indent=2)
