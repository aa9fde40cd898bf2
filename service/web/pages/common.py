"""What the approvers' pages share: the person's places, form errors, labels of states."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Template

from service.core.auth import identity_of
from service.core.authz import Authorizer
from service.core.errors import ServiceError
from service.core.tree import Node

# how many days before a deadline an item is marked as near it
NEAR_DAYS = 3

STATUS_LABELS = {
    "draft": "草稿", "submitted": "已提交", "in_review": "审核中", "approved": "已批准", "rejected": "已驳回",
    "returned": "已退回修改", "resubmitted": "已重新提交", "withdrawn": "已撤回", "revoked": "已撤销",
    "refused": "已拒绝（自动）", "pending_approval": "待审批", "active": "借调中", "overdue": "逾期未返岗",
    "received": "已受理", "under_investigation": "调查中", "substantiated": "属实", "unfounded": "不属实",
}
KIND_LABELS = {"admission": "准入申请", "secondment": "借调申请", "complaint": "投诉"}
VERDICT_LABELS = {"clear": "未发现问题", "flagged": "有提示", "refused": "违反禁止性规定"}
SEVERITY_LABELS = {"refuse": "拒绝", "flag": "提示"}
LEVEL_LABELS = {"national": "中央", "province": "省级", "city": "市级", "county": "县级", "street": "街道（乡镇）",
                "community": "社区", "other": "其他"}
FORM_LABELS = {"secondment": "借调", "temporary_transfer": "抽调", "shadow_learning": "跟班学习",
               "task_force": "工作专班"}


def authorizer_of(request: Request[Any, Any, Any]) -> Authorizer:
    authorizer: Authorizer = request.app.state.authorizer
    return authorizer


def subject_of(request: Request[Any, Any, Any]) -> str:
    return identity_of(request).subject


def may(request: Request[Any, Any, Any], obj: str, act: str, code: str) -> bool:
    return authorizer_of(request).allowed(subject_of(request), obj, act, code)


def domains(request: Request[Any, Any, Any], obj: str, act: str) -> list[str]:
    return authorizer_of(request).domains_allowing(subject_of(request), obj, act)


def counties_of(request: Request[Any, Any, Any], obj: str, act: str) -> list[Node]:
    """The counties in which the person may do `act` on `obj` (a role above a county covers those below)."""
    tree = authorizer_of(request).tree
    held = [tree.get(code) for code in domains(request, obj, act)]
    paths = [n.path for n in held if n is not None]
    return sorted((n for n in tree.nodes.values() if n.level == "county" and any(n.path.startswith(p) for p in paths)),
                  key=lambda n: n.code)


def children(request: Request[Any, Any, Any], code: str, level: str) -> list[Node]:
    tree = authorizer_of(request).tree
    node = tree.get(code)
    if node is None:
        return []
    return sorted((n for n in tree.nodes.values() if n.level == level and n.path.startswith(node.path)),
                  key=lambda n: n.code)


def place_name(request: Request[Any, Any, Any], code: str | None) -> str:
    if not code:
        return "—"
    node = authorizer_of(request).tree.get(code)
    return node.name if node else code


def problem_text(error: ServiceError) -> str:
    """The service's own message, with the fields it names."""
    text = error.detail
    if error.invalid_params:
        text += "：" + "；".join(f"{p.name}: {p.reason}" for p in error.invalid_params)
    return text


def labels() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS, "verdict_labels": VERDICT_LABELS,
            "severity_labels": SEVERITY_LABELS, "level_labels": LEVEL_LABELS, "form_labels": FORM_LABELS}


def page_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    """A refusal on a page answers as a page (a sign-in for 401), and is still recorded as evidence
    the way core/errors.py records it for the API."""
    from service.core.audit import refusal_task
    from service.web.context import PAGE_HEADERS, page_context

    audited = exc.audit is not None or exc.status in (401, 403, 409, 422, 429)
    background = refusal_task(request, exc, exc.status) if audited else None
    if exc.status == 401:
        return Redirect("/login", status_code=303, background=background)
    titles = {403: "无权访问", 404: "未找到", 409: "状态已变化", 422: "输入有误"}
    return Template("ui/error.html", status_code=exc.status, headers=PAGE_HEADERS, background=background,
                    context=page_context(request, title=titles.get(exc.status, "出错了"), message=exc.detail))


PAGE_ERRORS: dict[int | type[Exception], Any] = {ServiceError: page_error}
