"""What the approvers' pages share: the person's places, form errors, labels of states."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Template

from service.core.auth import identity_of
from service.core.authz import Authorizer
from service.core.errors import ServiceError, register_page_renderer
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


TITLES = {400: "请求有误", 403: "无权访问", 404: "未找到", 405: "不支持此操作", 409: "状态已变化",
          413: "提交的内容过大", 422: "输入有误", 429: "请求过于频繁", 500: "出错了", 503: "服务暂时不可用"}
MESSAGES = {400: "请求的格式有误，请返回后重试。", 403: "您没有执行此操作的权限。", 404: "您要找的页面不存在。",
            405: "此页面不支持该操作。", 413: "提交的内容超过了允许的大小。",
            422: "输入的内容有误，请检查后重试。", 429: "请求过于频繁，请稍后再试。",
            500: "系统内部错误，已记录，请稍后再试。", 503: "服务暂时不可用，请稍后再试。"}


def _chinese(text: str | None) -> str | None:
    """The Chinese part of a service message ("中文 (english)"); None when it has none."""
    if not text or not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return None
    return text.split(" (", 1)[0]


def problem_page(request: Request[Any, Any, Any], problem: Any, background: Any = None) -> Response[Any]:
    """Any problem on a page (an unknown /ui/ address, a bad query string, an error) as an HTML page in
    Chinese with a way back: registered with core/errors.py, which otherwise answers JSON."""
    from service.web.context import PAGE_HEADERS, page_context

    if problem.status == 401:
        return Redirect("/login", status_code=303, background=background)
    message = _chinese(problem.detail) or MESSAGES.get(problem.status, MESSAGES[500])
    if problem.invalid_params and problem.status in (400, 422):
        names = "、".join(dict.fromkeys(p.name for p in problem.invalid_params))
        message = f"{message}（{names}）"
    return Template("ui/error.html", status_code=problem.status, headers=PAGE_HEADERS, background=background,
                    context=page_context(request, title=TITLES.get(problem.status, "出错了"), message=message,
                                         request_id=problem.request_id))


def page_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    """A refusal on a page answers as a page (a sign-in for 401), and is still recorded as evidence
    the way core/errors.py records it for the API."""
    from service.core.audit import refusal_task
    from service.web.context import PAGE_HEADERS, page_context

    audited = exc.audit is not None or exc.status in (401, 403, 409, 422, 429)
    background = refusal_task(request, exc, exc.status) if audited else None
    if exc.status == 401:
        return Redirect("/login", status_code=303, background=background)
    message = exc.detail
    if exc.invalid_params and exc.status in (400, 422):
        message = problem_text(exc)
    return Template("ui/error.html", status_code=exc.status, headers=PAGE_HEADERS, background=background,
                    context=page_context(request, title=TITLES.get(exc.status, "出错了"), message=message))


PAGE_ERRORS: dict[int | type[Exception], Any] = {ServiceError: page_error}
for _prefix in ("/ui/", "/login", "/logout", "/lang/"):
    register_page_renderer(_prefix, problem_page)
