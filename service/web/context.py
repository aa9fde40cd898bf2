"""What every page needs: the locale, the translation function, the signed-in person."""

from __future__ import annotations

from typing import Any

from litestar import Request

from service.core.auth import identity_of
from service.core.authz import Authorizer
from service.web import labels as words
from service.web.format import helpers
from service.web.i18n import pick_locale, translations

ROLE_LABELS = {k: zh for k, (zh, _) in words.ROLES.items()}
# no inline script or style anywhere; every asset from this origin
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
# the navigation: a link shows only when the person holds the permission somewhere
NAV = (
    ("/ui/community", "本社区", ("refusal", "create")),
    ("/ui/department", "我的申请", ("admission_request", "submit")),
    ("/ui/inbox", "待办", ("jurisdiction", "read")),
    ("/ui/lists", "清单", ("jurisdiction", "read")),
    ("/ui/secondments", "借调", ("secondment_request", "read")),
    ("/ui/complaints", "投诉", ("complaint", "read")),
    ("/ui/audit", "审计", ("audit_event", "read")),
    ("/ui/dashboard", "统计", ("jurisdiction", "read")),
)


def page_context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    locale = pick_locale(request.cookies.get("mr_lang"), request.headers.get("accept-language"))
    t = translations(locale)
    identity = identity_of(request)
    person = None
    nav: list[tuple[str, str]] = []
    if identity.kind == "user":
        authorizer: Authorizer = request.app.state.authorizer
        roles = []
        for code, names in sorted(authorizer.roles_of(identity.subject).items()):
            node = authorizer.tree.get(code)
            roles += [{"label": ROLE_LABELS.get(n, n), "place": node.name if node else code} for n in sorted(names)]
        person = {"name": identity.name, "roles": roles}
        nav = [(href, label) for href, label, (obj, act) in NAV
               if authorizer.domains_allowing(identity.subject, obj, act)]
    notice = extra.pop("notice", None)
    if notice is None and request.scope.get("state", {}).get("session_expired"):
        notice = "会话已过期，请重新登录。"
    return {"locale": locale, "_": t.gettext, "person": person, "notice": notice, "nav": nav,
            "here": request.url.path, **helpers(locale), **words.bound(locale), **extra}
