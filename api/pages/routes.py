"""Routes of the H5 pages: each renders a template whose script talks to the JSON API."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.state import State
from api.wechat_cookies import StateCookie, clear_state, set_openid, set_state
from domain.vocabulary import ID_TYPE_LABELS, INSURANCE_LABELS, STATUS_LABELS
from services.context import AppState
from services.errors import ServiceError
from services.wechat import (
    CALLBACK_PATH,
    OPENID_COOKIE,
    in_wechat,
    oauth_callback,
    oauth_redirect,
    openid_of,
    return_path_of,
)

router = APIRouter(tags=["pages"], include_in_schema=False)

_HERE = Path(__file__).resolve().parent
_STATIC = _HERE / "static"
_templates = Jinja2Templates(directory=_HERE / "templates")

# Only the files shipped in static/ are served, looked up by exact name (no path traversal).
_STATIC_FILES: dict[str, tuple[Path, str]] = {
    p.name: (p, "text/css" if p.suffix == ".css" else "text/javascript")
    for p in _STATIC.iterdir()
    if p.suffix in {".css", ".js"}
}

_MAX_ID = 64
_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-_")


def _page(request: Request, template: str, title: str, **extra: Any) -> Response:
    """The page; inside WeChat without an openid, first a trip through 网页授权 (api.md)."""
    state: AppState = request.app.state.shebao
    wechat = in_wechat(request.headers.get("user-agent"))
    if wechat and openid_of(state, request.cookies.get(OPENID_COOKIE)) is None:
        found = oauth_redirect(state, return_path_of(request.url.path, request.url.query))
        if found is not None:
            url, sealed = found
            redirect = RedirectResponse(url, status_code=302)
            set_state(redirect, state, sealed)
            redirect.headers["Cache-Control"] = "no-store"
            return redirect
    context = {
        # WeChat's browser brings its own WeixinJSBridge; with the simulators on, the app names
        # the stand-in's script (api/app.py).
        "wechat_shim": getattr(request.app.state, "wechat_shim", None) if wechat else None,
        "title": title,
        "id_types": [(t.value, label) for t, label in ID_TYPE_LABELS.items()],
        "insurance_labels": {i.value: label for i, label in INSURANCE_LABELS.items()},
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
        **extra,
    }
    response = _templates.TemplateResponse(request, template, context)
    # Pages carry no personal data, but a cached page must never show another person's flow.
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found() -> ServiceError:
    return ServiceError(404, "NOT_FOUND", "请求的资源不存在", None)


def _checked_id(value: str) -> str:
    if not value or len(value) > _MAX_ID or not _ID_CHARS.issuperset(value):
        raise _not_found()
    return value


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/h5/", status_code=307)


@router.get("/h5", response_model=None)
async def h5_bare() -> RedirectResponse:
    return RedirectResponse("/h5/", status_code=307)


@router.get("/h5/", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    """用户认证."""
    return _page(request, "sign_in.html", "用户认证")


@router.get("/h5/menu", response_class=HTMLResponse)
async def menu(request: Request) -> Response:
    """社保费功能列表."""
    return _page(request, "menu.html", "社保费功能列表")


@router.get("/h5/payer", response_class=HTMLResponse)
async def other_payer(request: Request) -> Response:
    """缴费人信息 (代他人缴费)."""
    return _page(request, "payer.html", "缴费人信息")


@router.get("/h5/pay/confirm", response_class=HTMLResponse)
async def pay_confirm(request: Request) -> Response:
    """缴费信息确认."""
    return _page(request, "pay_confirm.html", "缴费信息确认")


@router.get("/h5/pay/amount", response_class=HTMLResponse)
async def pay_amount(request: Request) -> Response:
    """应缴费额确认."""
    return _page(request, "pay_amount.html", "应缴费额确认")


@router.get("/h5/pay/method", response_class=HTMLResponse)
async def pay_method(request: Request) -> Response:
    """缴款方式."""
    return _page(request, "pay_method.html", "缴款方式")


@router.get("/h5/pay/result/{contribution_id}", response_class=HTMLResponse)
async def pay_result(request: Request, contribution_id: str) -> Response:
    """支付结果, following the contribution live."""
    return _page(
        request, "pay_result.html", "支付结果", contribution_id=_checked_id(contribution_id)
    )


@router.get("/h5/records", response_class=HTMLResponse)
async def records(request: Request) -> Response:
    """社保费申报查询 (个人社保费查询)."""
    return _page(request, "records.html", "个人社保费查询")


@router.get("/h5/records/{record_id}", response_class=HTMLResponse)
async def record_detail(request: Request, record_id: str) -> Response:
    """缴费明细 of one record."""
    return _page(request, "record_detail.html", "缴费明细", record_id=_checked_id(record_id))


@router.get("/h5/certificates", response_class=HTMLResponse)
async def certificates(request: Request) -> Response:
    """完税证明查询."""
    return _page(request, "certificates.html", "完税证明查询")


@router.get("/h5/messages", response_class=HTMLResponse)
async def messages(request: Request) -> Response:
    """我的消息: payment results, refunds, certificates available, reminders."""
    return _page(request, "messages.html", "我的消息")


@router.get("/h5/verify/{certificate_no}", response_class=HTMLResponse)
async def verify(request: Request, certificate_no: str) -> Response:
    """Public: is this certificate genuine (verification code from the query string)."""
    return _page(request, "verify.html", "完税证明验证", certificate_no=_checked_id(certificate_no))


@router.get(CALLBACK_PATH, response_model=None)
async def wechat_oauth_callback(
    state: State,
    state_cookie: StateCookie = None,
    code: str = Query("", max_length=512),
    oauth_state: str = Query("", alias="state", max_length=128),
) -> RedirectResponse:
    """网页授权's way back: the openid is kept in this browser, then the page it came from."""
    back, sealed = await oauth_callback(state, code, oauth_state, state_cookie)
    response = RedirectResponse(back, status_code=302)
    set_openid(response, state, sealed)
    clear_state(response)
    return response


@router.get("/h5/static/{name}", response_model=None)
async def static(name: str) -> Response:
    found = _STATIC_FILES.get(name)
    if found is None:
        raise _not_found()
    path, media_type = found
    return FileResponse(path, media_type=f"{media_type}; charset=utf-8")
