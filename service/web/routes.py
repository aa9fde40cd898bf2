"""The web UI's shell: sign in and out, language switch, home. Pages of each area build on it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router

from service.core import audit
from service.core.audit import Actor
from service.core.auth import identity_of
from service.core.db import DB
from service.core.network import client_address
from service.identity import service as identity_service
from service.web.context import PAGE_HEADERS, page_context
from service.web.i18n import LOCALES
from service.web.pages.admission import AdmissionPages
from service.web.pages.audit import AuditPages
from service.web.pages.community import CommunityPage
from service.web.pages.complaints import ComplaintPages
from service.web.pages.dashboard import DashboardPage
from service.web.pages.decisions import DecisionPages, DocumentVerificationPage
from service.web.pages.department import DepartmentPages
from service.web.pages.exports import ExportPages
from service.web.pages.inbox import InboxPage
from service.web.pages.lists import ListPages
from service.web.pages.public import PublicPages
from service.web.pages.secondments import SecondmentPages

# where each role's work is: the first role the person holds, in this order, decides the page
LANDING = (("county_reviewer", "/ui/inbox"), ("org_department", "/ui/inbox"), ("supervisor", "/ui/inbox"),
           ("street_office", "/ui/secondments"), ("community", "/ui/community"), ("department", "/ui/department"),
           ("admin", "/ui/dashboard"))


def landing(authorizer: Any, subject: str) -> str:
    """The page a person signs in to: the inbox for those who decide, their own page for the others."""
    held = {name for names in authorizer.roles_of(subject).values() for name in names}
    return next((page for role, page in LANDING if role in held), "/")


class LoginForm(msgspec.Struct):
    username: str
    password: str


class WebController(Controller):
    path = "/"
    include_in_schema = False
    response_headers = PAGE_HEADERS

    @get("/", opt={"public": True}, name="home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        if request.scope.get("state", {}).get("session_expired"):
            request.clear_session()
        return Template("home.html", context=page_context(request))

    @get("/login", opt={"public": True})
    async def login_page(self, request: Request[Any, Any, Any]) -> Template:
        return Template("login.html", context=page_context(request))

    @post("/login", opt={"public": True}, status_code=303)
    async def login(
        self, request: Request[Any, Any, Any], db: DB,
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        settings = request.app.state.settings
        result = await identity_service.check_login(
            db, username=data.username.strip().lower()[:64], password=data.password[:256],
            client=identity_service.client_key(settings.token_pepper, client_address(request)),
            max_failures=settings.login_max_failures, lockout_s=settings.login_lockout_s,
        )
        if result.user_id is None:
            # the failure counter commits with this request; the evidence is written apart as well
            await audit.record_apart(
                request.app.state.pool, actor=Actor.from_connection(request), action="auth.login",
                subject_type="web_user", subject_id=data.username[:64], outcome="denied", status_code=401,
                detail={"reason": result.reason},
            )
            # two answers only, the same for names that exist and names that do not
            error = "尝试次数过多，请稍后再试。" if result.retry_after_s else "用户名或密码错误。"
            return Template("login.html", context=page_context(request, error=error, username=data.username[:64]),
                            status_code=429 if result.retry_after_s else 401,
                            headers={"Retry-After": str(result.retry_after_s)} if result.retry_after_s else None)
        request.set_session({"uid": result.user_id, "iat": time.time(), "gen": result.generation})
        await audit.record(db, actor=Actor(actor_type="user", actor_id=str(result.user_id), actor_name=data.username,
                                           request_id=request.scope.get("state", {}).get("request_id"),
                                           client_addr=client_address(request)),
                           action="auth.login", subject_type="web_user", subject_id=str(result.user_id))
        return Redirect(landing(request.app.state.authorizer, f"user:{result.user_id}"), status_code=303)

    @post("/logout", opt={"authenticated": True}, status_code=303)
    async def logout(self, request: Request[Any, Any, Any], db: DB) -> Redirect:
        identity = identity_of(request)
        await audit.record(db, actor=Actor.from_connection(request), action="auth.logout", subject_type="web_user")
        if identity.kind == "user" and identity.id is not None:
            await identity_service.end_sessions(db, user_id=identity.id)
        request.clear_session()
        return Redirect("/?bye=1", status_code=303)

    @get("/lang/{locale:str}", opt={"public": True}, status_code=303)
    async def switch_language(self, request: Request[Any, Any, Any], locale: FromPath[str]) -> Redirect:
        target = request.headers.get("referer") or "/"
        if not target.startswith(str(request.base_url)):
            target = "/"
        response = Redirect(target, status_code=303)
        if locale in LOCALES:
            response.set_cookie("mr_lang", locale, max_age=365 * 86400, samesite="lax", httponly=True)
        return response


static = create_static_files_router(
    path="/static", directories=[Path(__file__).parent / "static"], opt={"public": True}, include_in_schema=False
)

ROUTES = [WebController, static, PublicPages, InboxPage, AdmissionPages, SecondmentPages, ListPages, ComplaintPages,
          AuditPages, DashboardPage, CommunityPage, DecisionPages, DocumentVerificationPage,
          ExportPages, DepartmentPages]
