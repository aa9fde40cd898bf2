"""What the approvers' pages share: the person's places, form errors, labels of states."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Template

from service.core.auth import identity_of
from service.core.authz import Authorizer
from service.core.errors import ServiceError, register_page_renderer
from service.core.tree import Node
from service.web import labels as words
from service.web.i18n import pick_locale

# how many days before a deadline an item is marked as near it
NEAR_DAYS = 3

STATUS_LABELS = {k: zh for k, (zh, _) in words.STATUS.items()}
SECONDMENT_STATUS_LABELS = {k: zh for k, (zh, _) in words.SECONDMENT_STATUS.items()}
KIND_LABELS = {"admission": "准入申请", "secondment": "借调申请", "complaint": "投诉"}
VERDICT_LABELS = {"clear": "未发现问题", "flagged": "有提示", "refused": "违反禁止性规定"}
SEVERITY_LABELS = {"refuse": "拒绝", "flag": "提示"}
LEVEL_LABELS = {k: zh for k, (zh, _) in words.LEVELS.items()}
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


def locale_of(request: Request[Any, Any, Any]) -> str:
    return pick_locale(request.cookies.get("mr_lang"), request.headers.get("accept-language"))


def problem_text(error: ServiceError, locale: str = "zh-CN") -> str:
    """The service's own message in the page's language, with the fields it names by their labels."""
    text = words.message(error.detail, locale)
    if error.invalid_params:
        named = []
        for p in error.invalid_params:
            reason = words.message(p.reason, locale)
            if reason == text:
                reason = ""
            field = words.text("field", p.name, locale)
            named.append(f"{field}: {reason}" if locale == "en" and reason else
                         f"{field}（{reason}）" if reason else field)
        text += (": " if locale == "en" else "：") + ("; " if locale == "en" else "；").join(named)
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


QUERY_FIELDS = {"since": ("提交日期起", "Submitted since"), "until": ("结束日期", "Until"),
                "as_of": ("日期", "Date"), "from_date": ("对比起点日期", "From date"),
                "to_date": ("对比终点日期", "To date"), "kind": ("类别", "Kind"), "state": ("状态", "State"),
                "status": ("状态", "Status"), "sort": ("排序", "Sort"), "street": ("街道", "Street"),
                "list": ("清单", "List"), "outcome": ("结果", "Outcome"), "actor_type": ("操作人类型", "Actor type"),
                "jurisdiction": ("辖区代码", "Jurisdiction code"), "done": ("提示", "Notice")}


def _field(name: str, locale: str) -> str:
    pair = QUERY_FIELDS.get(name) or words.FIELDS.get(name)
    return (pair[1] if locale == "en" else pair[0]) if pair else name


def _error_page(request: Request[Any, Any, Any], *, status: int, detail: str | None, invalid: Any,
                background: Any, request_id: str | None = None) -> Response[Any]:
    """An HTML page in the page's language with a title and a way back (to the same page without its
    query string when the query string was at fault)."""
    from service.web.context import PAGE_HEADERS, page_context

    locale = locale_of(request)
    own = words.message(detail, locale) if detail else ""
    has_own = bool(own) and (locale == "en" or any("\u4e00" <= ch <= "\u9fff" for ch in own))
    message = own if has_own else MESSAGES.get(status, MESSAGES[500])
    back = None
    if invalid and status in (400, 422):
        names = [_field(n, locale) for n in dict.fromkeys(p.name for p in invalid)]
        if request.method == "GET":
            listed = "、".join(f"“{n}”" for n in names)
            if locale == "en":
                message = (f"The address holds an invalid value for {', '.join(names)}"
                           + (f": {own}" if has_own else "") + ". Choose again and search.")
            else:
                message = (f"网址中的{listed}无效" + (f"：{own.rstrip('。')}" if has_own else "")
                           + "。请重新选择后查询。")
            back = request.url.path
        else:
            message = f"{message} ({', '.join(names)})" if locale == "en" else f"{message}（{'、'.join(names)}）"
    return Template("ui/error.html", status_code=status, headers=PAGE_HEADERS, background=background,
                    context=page_context(request, title=TITLES.get(status, "出错了"), message=message,
                                         request_id=request_id, back=back))


def problem_page(request: Request[Any, Any, Any], problem: Any, background: Any = None) -> Response[Any]:
    """Any problem on a page (an unknown /ui/ address, a bad query string, an error) as an HTML page
    with a way back: registered with core/errors.py, which otherwise answers JSON."""
    if problem.status == 401:
        return Redirect("/login", status_code=303, background=background)
    return _error_page(request, status=problem.status, detail=problem.detail, invalid=problem.invalid_params,
                       background=background, request_id=problem.request_id)


def page_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    """A refusal on a page answers as a page (a sign-in for 401), and is still recorded as evidence
    the way core/errors.py records it for the API."""
    from service.core.audit import refusal_task

    audited = exc.audit is not None or exc.status in (401, 403, 409, 422, 429)
    background = refusal_task(request, exc, exc.status) if audited else None
    if exc.status == 401:
        return Redirect("/login", status_code=303, background=background)
    return _error_page(request, status=exc.status, detail=exc.detail, invalid=exc.invalid_params,
                       background=background, request_id=request.scope.get("state", {}).get("request_id"))


PAGE_ERRORS: dict[int | type[Exception], Any] = {ServiceError: page_error}
for _prefix in ("/ui/", "/login", "/logout", "/lang/"):
    register_page_renderer(_prefix, problem_page)
