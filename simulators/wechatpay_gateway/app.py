"""The gateway's HTTP app: signed v3 endpoints over the simulator, plus /sim admin endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import ipaddress
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ValidationError

from adapters.clock import Clock, system_clock
from adapters.errors import (
    AdapterError,
    AuthError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    TransientError,
)
from adapters.payments.interface import CreateOrder, RefundRequest
from adapters.payments.wechatpay.bill import render_trade_bill
from adapters.payments.wechatpay.crypto import (
    parse_authorization,
    request_message,
    signed_headers,
    verify,
)
from domain.vocabulary import Channel
from simulators.payments import ForceKind, PaymentSimulator
from simulators.wechat.oauth import oauth_router
from simulators.wechatpay_gateway import resources
from simulators.wechatpay_gateway.config import GatewayConfig, Stats, Switches
from simulators.wechatpay_gateway.notifier import Deliverer

# Requests signed more than this far from now are refused, as WeChat does.
_REQUEST_MAX_SKEW_S = 5 * 60
_KEPT_BILLS = 100
_STATUS_OF_TRANSIENT = {"FREQUENCY_LIMITED": 429, "NOT_ENOUGH": 403}


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message)
        self.status, self.code, self.message = status, code, message


class PayIn(BaseModel):
    outcome: Literal["success", "fail"] = "success"
    bank_type: str | None = None


class ForceIn(BaseModel):
    kind: ForceKind
    amount_fen: int
    outcome: str
    times: int | None = None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _status_of(err: AdapterError) -> int:
    if isinstance(err, TransientError):
        return _STATUS_OF_TRANSIENT.get(err.code, 500)
    if isinstance(err, AuthError):
        return 401 if err.code == "SIGN_ERROR" else 403
    if isinstance(err, NotFoundError):
        return 404
    return 400  # InvalidRequestError, ConflictError


def create_gateway_app(
    config: GatewayConfig,
    sim: PaymentSimulator,
    *,
    clock: Clock = system_clock,
    deliver: bool = True,
) -> FastAPI:
    """The gateway; with deliver=True its lifespan sends callbacks in the background."""
    switches = Switches()
    stats = Stats()
    bills: dict[str, bytes] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as http:
            deliverer = Deliverer(sim, config, switches, stats, clock, http)
            app.state.deliverer = deliverer
            task = asyncio.create_task(deliverer.run()) if deliver else None
            try:
                yield
            finally:
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app = FastAPI(title="WeChat Pay v3 gateway (local)", lifespan=lifespan)
    # The gateway plays WeChat's 网页授权 too, at WeChat's own paths.
    app.include_router(oauth_router(config.appid, config.app_secret))
    app.state.switches = switches
    app.state.stats = stats

    def signed(status: int, payload: dict[str, Any] | None) -> Response:
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False)
        keys = config.keys
        headers = signed_headers(
            keys.platform_private, keys.platform_key_id, body, int(time.time())
        )
        if switches.tamper_responses > 0 and 200 <= status < 300:
            switches.tamper_responses -= 1
            body = body.replace('"', "'", 1) if body else " "
        media = "application/json" if payload is not None else None
        return Response(content=body, status_code=status, headers=headers, media_type=media)

    def refused(status: int, code: str, message: str) -> Response:
        return signed(status, {"code": code, "message": message})

    async def authenticated(request: Request) -> bytes:
        """The raw body, once the merchant's request signature checks out."""
        body = await request.body()
        fields = parse_authorization(request.headers.get("authorization", ""))
        if fields is None:
            raise _Refused(401, "SIGN_ERROR", "缺少或无法解析 Authorization")
        if fields["mchid"] != config.mchid:
            raise _Refused(401, "SIGN_ERROR", "商户号与签名不符")
        if fields["serial_no"] != config.keys.merchant_serial:
            raise _Refused(401, "SIGN_ERROR", "商户证书序列号不符")
        try:
            skew = abs(time.time() - int(fields["timestamp"]))
        except ValueError:
            raise _Refused(401, "SIGN_ERROR", "时间戳格式错误") from None
        if skew > _REQUEST_MAX_SKEW_S:
            raise _Refused(401, "SIGN_ERROR", "请求时间戳已过期")
        path = request.scope.get("raw_path", b"").decode() or request.url.path
        query = request.scope.get("query_string", b"").decode()
        target = f"{path}?{query}" if query else path
        message = request_message(
            request.method, target, fields["timestamp"], fields["nonce_str"], body.decode()
        )
        if not verify(config.keys.merchant_public, message, fields["signature"]):
            raise _Refused(401, "SIGN_ERROR", "签名错误")
        return body

    def json_body(raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise _Refused(400, "PARAM_ERROR", "请求体不是 JSON") from None
        if not isinstance(data, dict):
            raise _Refused(400, "PARAM_ERROR", "请求体格式错误")
        return data

    def check_ids(data: dict[str, Any], *, appid: bool) -> None:
        if data.get("mchid") != config.mchid:
            raise _Refused(400, "PARAM_ERROR", "mchid 与商户不符")
        if appid and data.get("appid") != config.appid:
            raise _Refused(400, "PARAM_ERROR", "appid 与商户不符")

    async def guarded(call: Callable[[], Awaitable[Response]]) -> Response:
        """Run a handler body: refusals and simulator errors become signed v3 errors."""
        try:
            return await call()
        except _Refused as err:
            return refused(err.status, err.code, err.message)
        except OutcomeUnknownError:
            # The call's effect (if any) is committed; hang past the client's read timeout.
            await asyncio.sleep(config.stall_s)
            return refused(500, "SYSTEM_ERROR", "系统繁忙")
        except AdapterError as err:
            return refused(_status_of(err), err.code, err.message or err.code)

    # ---- v3 endpoints ----

    async def create(request: Request, kind: Literal["jsapi", "h5"]) -> Response:
        data = json_body(await authenticated(request))
        check_ids(data, appid=True)
        payer = data.get("payer") or {}
        if kind == "jsapi" and not payer.get("openid"):
            raise _Refused(400, "PARAM_ERROR", "JSAPI 下单须提供 payer.openid")
        client_ip = str((data.get("scene_info") or {}).get("payer_client_ip") or "")
        if kind == "h5" and not client_ip:
            raise _Refused(400, "PARAM_ERROR", "H5 下单须提供 scene_info.payer_client_ip")
        if kind == "h5" and not _is_ip(client_ip):
            raise _Refused(400, "PARAM_ERROR", "scene_info.payer_client_ip 格式错误")
        attach = data.get("attach")
        channel = (
            Channel(attach) if attach in {c.value for c in Channel} else Channel.WECHAT_BALANCE
        )
        try:
            req = CreateOrder(
                out_trade_no=data.get("out_trade_no"),
                description=data.get("description"),
                amount_fen=(data.get("amount") or {}).get("total"),
                time_expire=datetime.fromisoformat(str(data.get("time_expire"))),
                channel=channel,
                notify_url=data.get("notify_url"),
                payer_openid=payer.get("openid") if kind == "jsapi" else None,
                payer_client_ip=client_ip or None,
            )
        except (ValidationError, ValueError, TypeError):
            raise _Refused(400, "PARAM_ERROR", "参数错误") from None
        created = await sim.create_order(req)
        if kind == "jsapi":
            return signed(200, {"prepay_id": created.prepay_id})
        base = created.h5_url or created.cashier_url or ""
        return signed(200, {"h5_url": f"{base}?prepay_id={created.prepay_id}"})

    @app.post("/v3/pay/transactions/jsapi")
    async def pay_jsapi(request: Request) -> Response:
        return await guarded(lambda: create(request, "jsapi"))

    @app.post("/v3/pay/transactions/h5")
    async def pay_h5(request: Request) -> Response:
        return await guarded(lambda: create(request, "h5"))

    async def query(request: Request, out_trade_no: str) -> Response:
        await authenticated(request)
        if request.query_params.get("mchid") != config.mchid:
            raise _Refused(400, "PARAM_ERROR", "mchid 与商户不符")
        await sim.query_order(out_trade_no)  # consumes forced query faults, like a real call
        order = await sim.order(out_trade_no)
        return signed(200, resources.transaction(order, config.appid, config.mchid))

    @app.get("/v3/pay/transactions/out-trade-no/{out_trade_no}")
    async def query_order(request: Request, out_trade_no: str) -> Response:
        return await guarded(lambda: query(request, out_trade_no))

    async def close(request: Request, out_trade_no: str) -> Response:
        check_ids(json_body(await authenticated(request)), appid=False)
        await sim.close_order(out_trade_no)
        return signed(204, None)

    @app.post("/v3/pay/transactions/out-trade-no/{out_trade_no}/close")
    async def close_order(request: Request, out_trade_no: str) -> Response:
        return await guarded(lambda: close(request, out_trade_no))

    async def refund_json(out_refund_no: str) -> dict[str, Any]:
        status = await sim.query_refund(out_refund_no)
        order = await sim.order(await sim.refund_trade_no(out_refund_no))
        return resources.refund(status, order.out_trade_no, order.transaction_id, order.amount_fen)

    async def create_refund(request: Request) -> Response:
        data = json_body(await authenticated(request))
        amount = data.get("amount") or {}
        if not data.get("out_trade_no"):
            raise _Refused(400, "PARAM_ERROR", "须提供 out_trade_no")
        try:
            req = RefundRequest(
                out_refund_no=data.get("out_refund_no"),
                out_trade_no=data.get("out_trade_no"),
                amount_fen=amount.get("refund"),
                total_fen=amount.get("total"),
                reason=data.get("reason") or "",
                notify_url=data.get("notify_url"),
            )
        except (ValidationError, ValueError, TypeError):
            raise _Refused(400, "PARAM_ERROR", "参数错误") from None
        await sim.refund(req)
        return signed(200, await refund_json(req.out_refund_no))

    @app.post("/v3/refund/domestic/refunds")
    async def refund(request: Request) -> Response:
        return await guarded(lambda: create_refund(request))

    async def get_refund(request: Request, out_refund_no: str) -> Response:
        await authenticated(request)
        return signed(200, await refund_json(out_refund_no))

    @app.get("/v3/refund/domestic/refunds/{out_refund_no}")
    async def query_refund(request: Request, out_refund_no: str) -> Response:
        return await guarded(lambda: get_refund(request, out_refund_no))

    async def apply_bill(request: Request) -> Response:
        await authenticated(request)
        try:
            day = date.fromisoformat(request.query_params.get("bill_date", ""))
        except ValueError:
            raise _Refused(400, "PARAM_ERROR", "bill_date 格式错误") from None
        text = render_trade_bill(await sim.trade_bill(day), appid=config.appid, mchid=config.mchid)
        content = text.encode()
        digest = hashlib.sha1(content).hexdigest()
        if switches.bad_bill_hash:
            digest = hashlib.sha1(content + b"x").hexdigest()
        gz = request.query_params.get("tar_type") == "GZIP"
        token = secrets.token_urlsafe(16)
        bills[token] = gzip.compress(content) if gz else content
        while len(bills) > _KEPT_BILLS:
            del bills[next(iter(bills))]  # the oldest download link expires, as WeChat's do
        base = str(request.base_url).rstrip("/")
        return signed(
            200,
            {
                "hash_type": "SHA1",
                "hash_value": digest,
                "download_url": f"{base}/v3/billdownload/file?token={token}",
            },
        )

    @app.get("/v3/bill/tradebill")
    async def trade_bill(request: Request) -> Response:
        return await guarded(lambda: apply_bill(request))

    async def download(request: Request) -> Response:
        await authenticated(request)
        content = bills.get(request.query_params.get("token", ""))
        if content is None:
            raise _Refused(404, "RESOURCE_NOT_EXISTS", "账单不存在或已过期")
        return Response(content=content, media_type="application/octet-stream")

    @app.get("/v3/billdownload/file")
    async def download_bill(request: Request) -> Response:
        return await guarded(lambda: download(request))

    # ---- admin (the cashier page, tests and demos; not part of WeChat's API) ----

    def admin_error(err: AdapterError) -> Response:
        status = 409 if isinstance(err, ConflictError) else 404
        if isinstance(err, InvalidRequestError):
            status = 400
        body = json.dumps({"code": err.code, "message": err.message})
        return Response(body, status_code=status, media_type="application/json")

    @app.get("/sim/orders/{out_trade_no}")
    async def admin_order(out_trade_no: str) -> Response:
        try:
            order = await sim.order(out_trade_no)
        except AdapterError as err:
            return admin_error(err)
        return Response(order.model_dump_json(), media_type="application/json")

    @app.get("/sim/prepay/{prepay_id}")
    async def admin_prepay(prepay_id: str) -> Response:
        """Which order a JSAPI package names (for the WeixinJSBridge shim's cashier)."""
        try:
            out_trade_no = await sim.out_trade_no_of(prepay_id)
        except AdapterError as err:
            return admin_error(err)
        return Response(json.dumps({"out_trade_no": out_trade_no}), media_type="application/json")

    @app.post("/sim/orders/{out_trade_no}/pay")
    async def admin_pay(out_trade_no: str, body: PayIn) -> Response:
        try:
            status = await sim.pay(out_trade_no, body.outcome, body.bank_type)
        except AdapterError as err:
            return admin_error(err)
        return Response(status.model_dump_json(), media_type="application/json")

    @app.post("/sim/forces", status_code=204)
    async def admin_force(body: ForceIn) -> None:
        await sim.force(body.kind, body.amount_fen, body.outcome, body.times)

    @app.put("/sim/switches")
    async def admin_switches(body: Switches) -> Switches:
        for name, value in body.model_dump().items():
            setattr(switches, name, value)
        return switches

    @app.get("/sim/stats")
    async def admin_stats() -> Stats:
        return stats

    @app.post("/sim/deliver")
    async def admin_deliver(request: Request) -> dict[str, int]:
        deliverer: Deliverer = request.app.state.deliverer
        return {"acknowledged": await deliverer.deliver_once()}

    return app
