"""Inside WeChat: 网页授权 (snsapi_base) for the payer's openid, kept in a sealed cookie, bound to
the person after 用户认证 so a returning payer is recognised, and unbound on request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time

from adapters.errors import AdapterError, TransientError
from services.context import AppState
from services.errors import ServiceError
from services.people import IdentityBody, PersonOut, look_up, person_out
from services.sessions import start_session
from services.timefmt import utc_now
from storage import wechat_openids
from storage.models import Person

log = logging.getLogger("shebao.services.wechat")

OPENID_COOKIE = "sb_wx"
STATE_COOKIE = "sb_wx_state"
CALLBACK_PATH = "/h5/oauth/callback"
# WeChat's browser names itself so in its user agent.
_WECHAT_UA = "MicroMessenger"
# The openid is kept as long as a sign-in session at most; the state only for one round trip.
STATE_TTL_S = 10 * 60
_MAX_COOKIE = 512
_MAX_RETURN = 200
_HOME = "/h5/"


def in_wechat(user_agent: str | None) -> bool:
    return bool(user_agent) and _WECHAT_UA in (user_agent or "")


def openid_ttl_s(state: AppState) -> int:
    return state.settings.session_ttl_minutes * 60


def _key(state: AppState) -> bytes:
    # A key of its own, derived from a secret production already requires to be strong.
    return hmac.new(
        state.settings.payer_ref_key.encode(), b"shebao wechat cookies", hashlib.sha256
    ).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(state: AppState, kind: str, value: str, ttl_s: int) -> str:
    """`value` with its kind and expiry under an HMAC: the browser keeps it, cannot change it."""
    payload = f"{kind}|{int(time.time()) + ttl_s}|{value}".encode()
    mac = hmac.new(_key(state), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def unseal(state: AppState, kind: str, sealed: str | None) -> str | None:
    """The value sealed as `kind`, unless missing, altered or expired."""
    if not sealed or len(sealed) > _MAX_COOKIE or "." not in sealed:
        return None
    payload_b64, _, mac_b64 = sealed.partition(".")
    try:
        payload, mac = _unb64(payload_b64), _unb64(mac_b64)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, hmac.new(_key(state), payload, hashlib.sha256).digest()):
        return None
    try:
        found_kind, expires, value = payload.decode().split("|", 2)
        alive = int(expires) > time.time()
    except ValueError:
        return None
    return value if found_kind == kind and alive and value else None


def openid_of(state: AppState, cookie: str | None) -> str | None:
    """The openid this browser's 网页授权 gave, if it holds a live one."""
    return unseal(state, "openid", cookie)


def safe_return(path: str | None) -> str:
    """Only our own H5 pages are returned to (a path, never another host)."""
    if (
        not path
        or len(path) > _MAX_RETURN
        or not path.startswith(_HOME)
        or path.startswith(CALLBACK_PATH)
        or "//" in path
        or "\\" in path
        or not path.isascii()
        or not path.isprintable()
    ):
        return _HOME
    return path


def oauth_redirect(state: AppState, return_path: str) -> tuple[str, str] | None:
    """Where to send a payer inside WeChat without an openid, and the state cookie binding the
    round trip to this browser; None when 网页授权 is not wired."""
    oauth = state.adapters.wechat_oauth if state.adapters is not None else None
    if oauth is None:
        return None
    nonce = secrets.token_urlsafe(16)
    redirect_uri = f"{state.settings.base_url.rstrip('/')}{CALLBACK_PATH}"
    cookie = seal(state, "state", f"{nonce}|{safe_return(return_path)}", STATE_TTL_S)
    return oauth.authorize_url(redirect_uri, nonce), cookie


def _refused(code: str, message: str, status: int = 400) -> ServiceError:
    return ServiceError(status, code, message, None)


async def oauth_callback(
    state: AppState, code: str, state_param: str, state_cookie: str | None
) -> tuple[str, str]:
    """The page to return to and the openid cookie, once `state` matches this browser's round
    trip and WeChat has exchanged the code."""
    sealed = unseal(state, "state", state_cookie)
    nonce, _, return_path = (sealed or "").partition("|")
    if not nonce or not hmac.compare_digest(nonce.encode(), state_param.encode()):
        raise _refused("OAUTH_STATE_INVALID", "授权已失效，请从公众号菜单重新进入")
    oauth = state.adapters.wechat_oauth if state.adapters is not None else None
    if oauth is None or not code:
        raise _refused("OAUTH_CODE_INVALID", "授权码无效，请从公众号菜单重新进入")
    try:
        openid = await oauth.openid_for_code(code)
    except TransientError as err:
        log.warning("网页授权 code exchange failed: %s", err.code)
        raise ServiceError(
            503, "WECHAT_UNAVAILABLE", "微信授权暂不可用，请稍后再试", None
        ) from None
    except AdapterError as err:
        # The code is spent or the 公众号's credentials are wrong: the payer can only retry.
        log.warning("网页授权 code refused: %s", err.code)
        raise _refused("OAUTH_CODE_INVALID", "授权码无效，请从公众号菜单重新进入") from None
    return safe_return(return_path), seal(state, "openid", openid, openid_ttl_s(state))


def return_path_of(path: str, query: str) -> str:
    """The page's own path and query, to come back to after 网页授权."""
    return safe_return(f"{path}?{query}" if query else path)


async def sign_in(
    state: AppState, body: IdentityBody, openid_cookie: str | None
) -> tuple[str, PersonOut]:
    """用户认证 (services/sessions.py); inside WeChat, the browser's openid now names the person."""
    person, shown = await look_up(state, body)
    openid = openid_of(state, openid_cookie)
    if openid is not None:
        async with state.sessions.begin() as db:
            await wechat_openids.bind_openid(db, openid, person.id, utc_now())
    return await start_session(state, person), shown


async def silent_sign_in(state: AppState, openid_cookie: str | None) -> tuple[str, PersonOut]:
    """A session for the person the browser's openid is bound to (404 WECHAT_NOT_BOUND
    otherwise)."""
    openid = openid_of(state, openid_cookie)
    person = None
    if openid is not None:
        async with state.sessions() as db:
            person = await wechat_openids.person_for_openid(db, openid)
            shown = await person_out(db, person) if person is not None else None
    if person is None or shown is None:
        raise ServiceError(404, "WECHAT_NOT_BOUND", "该微信尚未绑定缴费人，请先进行用户认证", None)
    return await start_session(state, person), shown


async def is_bound(state: AppState, person: Person) -> bool:
    async with state.sessions() as db:
        return await wechat_openids.openid_for_person(db, person.id) is not None


async def unbind(state: AppState, person: Person) -> None:
    """Forget every openid bound to the person: WeChat no longer signs them in by itself."""
    async with state.sessions.begin() as db:
        await wechat_openids.unbind_person(db, person.id)
