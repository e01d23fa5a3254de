"""The real WeChat Pay v3 channel on `wechatpayv3` (public-key mode), run in a worker thread."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import requests
from wechatpayv3 import WeChatPay, WeChatPayType

from adapters.errors import (
    AdapterError,
    AuthError,
    InvalidRequestError,
    OutcomeUnknownError,
    TransientError,
    error_for_code,
)
from adapters.payments.interface import (
    BillRow,
    CreateOrder,
    OrderCreated,
    OrderStatus,
    PaymentChannel,
    RefundRequest,
    RefundStatus,
)
from adapters.payments.wechatpay.bill import parse_trade_bill
from adapters.payments.wechatpay.crypto import (
    MERCHANT_PRIVATE_FILE,
    PLATFORM_PUBLIC_FILE,
    PUBLIC_KEY_ID_PREFIX,
    jsapi_pay_params,
    key_id,
    load_private_key,
    public_pem_of,
)
from adapters.payments.wechatpay.states import payment_state, refund_state

if TYPE_CHECKING:
    from settings import Settings

log = logging.getLogger("shebao.adapters.wechatpay")

# WeChat writes times as RFC 3339 in +08:00; a fixed offset needs no tz database.
CST = timezone(timedelta(hours=8))
_MESSAGE_MAX = 200


@dataclass(frozen=True)
class WeChatPayConfig:
    """Merchant credentials; secrets never appear in repr (logs, tracebacks)."""

    mchid: str
    appid: str
    apiv3_key: str = field(repr=False)
    private_key_pem: str = field(repr=False)
    cert_serial_no: str
    public_key_pem: str
    public_key_id: str
    gateway_url: str = ""
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    # H5 orders must name the payer's IP: the order's own, else this (an order made without a
    # browser, e.g. by an operator's tool).
    h5_client_ip: str = "127.0.0.1"

    @classmethod
    def from_settings(cls, settings: Settings) -> WeChatPayConfig:
        """From SHEBAO_WECHATPAY_*; key paths default to the local gateway's files."""
        if len(settings.wechatpay_apiv3_key.encode()) != 32:
            # AEAD_AES_256_GCM takes the key's 32 bytes as they are.
            raise ValueError("SHEBAO_WECHATPAY_APIV3_KEY must be 32 bytes")
        directory = settings.wechatpay_dir
        private_path = settings.wechatpay_private_key_path or directory / MERCHANT_PRIVATE_FILE
        public_path = settings.wechatpay_public_key_path or directory / PLATFORM_PUBLIC_FILE
        private_pem = private_path.read_bytes()
        public_pem = public_path.read_bytes()
        return cls(
            mchid=settings.wechatpay_mchid,
            appid=settings.wechatpay_appid,
            apiv3_key=settings.wechatpay_apiv3_key,
            private_key_pem=private_pem.decode(),
            cert_serial_no=settings.wechatpay_cert_serial_no or key_id(public_pem_of(private_pem)),
            public_key_pem=public_pem.decode(),
            public_key_id=settings.wechatpay_public_key_id
            or key_id(public_pem, PUBLIC_KEY_ID_PREFIX),
            gateway_url=settings.wechatpay_gateway_url,
            connect_timeout_s=settings.wechatpay_connect_timeout_s,
            read_timeout_s=settings.wechatpay_read_timeout_s,
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(CST).isoformat(timespec="seconds")


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _error_from_response(status: int, body: Any) -> AdapterError:
    """Classify a non-2xx answer by WeChat's code, falling back on the HTTP status."""
    code, message = "", ""
    try:
        data = json.loads(body) if isinstance(body, str | bytes) and body else {}
        if isinstance(data, dict):
            code = str(data.get("code") or "")
            message = str(data.get("message") or "")[:_MESSAGE_MAX]
    except ValueError:
        pass
    if status == 429:
        return TransientError(code or "FREQUENCY_LIMITED", message)
    if status >= 500:
        return TransientError(code or "SYSTEM_ERROR", message)
    return error_for_code(code or f"HTTP_{status}", message)


class WeChatPayChannel(PaymentChannel):
    """PaymentChannel over the v3 API. Every call has a connect and a read timeout.

    The SDK is synchronous, so each call runs in a thread; a read timeout on a call that
    changes state (pay, close, refund) is OutcomeUnknownError — the activity queries first.
    """

    def __init__(self, config: WeChatPayConfig) -> None:
        self._config = config
        self._client = WeChatPay(
            wechatpay_type=WeChatPayType.JSAPI,
            mchid=config.mchid,
            private_key=config.private_key_pem,
            cert_serial_no=config.cert_serial_no,
            appid=config.appid,
            apiv3_key=config.apiv3_key,
            timeout=(config.connect_timeout_s, config.read_timeout_s),
            public_key=config.public_key_pem,
            public_key_id=config.public_key_id,
        )
        self._private_key = load_private_key(config.private_key_pem.encode())
        if config.gateway_url:
            # The SDK fixes the production host; the local gateway replaces it (payments.md).
            self._client._core._gate_way = config.gateway_url.rstrip("/")
        # A backstop over requests' per-read timeout, which does not bound the whole call.
        self._total_timeout_s = config.connect_timeout_s + 2 * config.read_timeout_s + 1

    @property
    def config(self) -> WeChatPayConfig:
        return self._config

    async def _call(
        self, call: Callable[[], tuple[int, Any]], *, changes_state: bool
    ) -> tuple[int, Any]:
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), self._total_timeout_s)
        except requests.exceptions.ConnectTimeout:
            raise TransientError("CONNECT_TIMEOUT", "连接微信支付超时") from None
        except (requests.exceptions.ReadTimeout, TimeoutError):
            if changes_state:
                raise OutcomeUnknownError("READ_TIMEOUT", "读取微信支付应答超时") from None
            raise TransientError("READ_TIMEOUT", "读取微信支付应答超时") from None
        except requests.exceptions.ConnectionError:
            # The request may have reached WeChat before the connection broke.
            if changes_state:
                raise OutcomeUnknownError("CONNECTION_ERROR", "与微信支付的连接中断") from None
            raise TransientError("CONNECTION_ERROR", "与微信支付的连接中断") from None
        except requests.exceptions.RequestException as err:
            raise TransientError("HTTP_ERROR", type(err).__name__) from None
        except Exception as err:
            # The SDK raises bare Exceptions: a failed response signature, or a bad argument.
            text = str(err)
            if "signature" in text or "algorithm" in text:
                raise AuthError("RESPONSE_SIGNATURE_INVALID", "微信支付应答签名验证失败") from None
            raise InvalidRequestError("CLIENT_ERROR", text[:_MESSAGE_MAX]) from None

    async def _json(
        self, call: Callable[[], tuple[int, Any]], *, changes_state: bool, ok: tuple[int, ...]
    ) -> dict[str, Any]:
        status, body = await self._call(call, changes_state=changes_state)
        if status not in ok:
            raise _error_from_response(status, body)
        if status == 204 or not body:
            return {}
        try:
            data = json.loads(body)
        except ValueError:
            raise TransientError("BAD_RESPONSE", "微信支付应答不是 JSON") from None
        if not isinstance(data, dict):
            raise TransientError("BAD_RESPONSE", "微信支付应答格式错误")
        if data.get("mchid") not in (None, self._config.mchid):
            raise AuthError("MCHID_MISMATCH", "应答商户号与本商户不符")
        return data

    # ---- PaymentChannel ----

    async def create_order(self, req: CreateOrder) -> OrderCreated:
        cfg = self._config
        kwargs: dict[str, Any] = {
            "description": req.description,
            "out_trade_no": req.out_trade_no,
            "amount": {"total": req.amount_fen, "currency": "CNY"},
            "time_expire": _iso(req.time_expire),
            # Our channel (balance or bank card) rides in attach and comes back in queries.
            "attach": req.channel.value,
            "notify_url": req.notify_url,
        }
        if req.payer_openid:
            kwargs |= {"pay_type": WeChatPayType.JSAPI, "payer": {"openid": req.payer_openid}}
        else:
            kwargs |= {
                "pay_type": WeChatPayType.H5,
                "scene_info": {
                    "payer_client_ip": req.payer_client_ip or cfg.h5_client_ip,
                    "h5_info": {"type": "Wap"},
                },
            }
        data = await self._json(lambda: self._client.pay(**kwargs), changes_state=True, ok=(200,))
        # WeChat keeps time_expire to the second: that (slightly earlier) moment is the deadline.
        if req.payer_openid:
            prepay_id = str(data.get("prepay_id") or "")
            if not prepay_id:
                raise TransientError("BAD_RESPONSE", "应答缺少 prepay_id")
            return OrderCreated(
                out_trade_no=req.out_trade_no,
                prepay_id=prepay_id,
                cashier_url=None,
                h5_url=None,
                expires_at=req.time_expire.replace(microsecond=0),
                jsapi=self.jsapi_parameters(prepay_id),
            )
        h5_url = str(data.get("h5_url") or "")
        if not h5_url:
            raise TransientError("BAD_RESPONSE", "应答缺少 h5_url")
        prepay_ids = parse_qs(urlparse(h5_url).query).get("prepay_id") or [""]
        return OrderCreated(
            out_trade_no=req.out_trade_no,
            prepay_id=prepay_ids[0],
            cashier_url=h5_url,
            h5_url=h5_url,
            expires_at=req.time_expire.replace(microsecond=0),
        )

    def jsapi_parameters(self, prepay_id: str) -> dict[str, str]:
        """What the WeChat page passes to WeixinJSBridge getBrandWCPayRequest (RSA paySign)."""
        return jsapi_pay_params(self._private_key, self._config.appid, prepay_id, int(time.time()))

    async def query_order(self, out_trade_no: str) -> OrderStatus:
        data = await self._json(
            lambda: self._client.query(out_trade_no=out_trade_no), changes_state=False, ok=(200,)
        )
        amount = data.get("amount") or {}
        try:
            return OrderStatus(
                out_trade_no=str(data["out_trade_no"]),
                state=payment_state(data["trade_state"]),
                provider_state=str(data["trade_state"]),
                transaction_id=data.get("transaction_id") or None,
                amount_fen=int(amount["total"]),
                payer_total_fen=amount.get("payer_total"),
                success_time=_when(data.get("success_time")),
                bank_type=data.get("bank_type") or None,
            )
        except (KeyError, ValueError, TypeError):
            raise TransientError("BAD_RESPONSE", "订单查询应答格式错误") from None

    async def close_order(self, out_trade_no: str) -> None:
        await self._json(
            lambda: self._client.close(out_trade_no=out_trade_no),
            changes_state=True,
            ok=(200, 204),
        )

    def _refund_status(self, data: dict[str, Any]) -> RefundStatus:
        try:
            return RefundStatus(
                out_refund_no=str(data["out_refund_no"]),
                refund_id=data.get("refund_id") or None,
                status=refund_state(data["status"]),
                amount_fen=int((data.get("amount") or {})["refund"]),
                success_time=_when(data.get("success_time")),
                user_received_account=data.get("user_received_account") or None,
            )
        except (KeyError, ValueError, TypeError):
            raise TransientError("BAD_RESPONSE", "退款应答格式错误") from None

    async def refund(self, req: RefundRequest) -> RefundStatus:
        data = await self._json(
            lambda: self._client.refund(
                out_refund_no=req.out_refund_no,
                amount={"refund": req.amount_fen, "total": req.total_fen, "currency": "CNY"},
                out_trade_no=req.out_trade_no,
                reason=req.reason,
                notify_url=req.notify_url,
            ),
            changes_state=True,
            ok=(200,),
        )
        return self._refund_status(data)

    async def query_refund(self, out_refund_no: str) -> RefundStatus:
        data = await self._json(
            lambda: self._client.query_refund(out_refund_no=out_refund_no),
            changes_state=False,
            ok=(200,),
        )
        return self._refund_status(data)

    async def trade_bill(self, bill_date: date) -> list[BillRow]:
        """Apply for the day's bill, download it, gunzip, check its SHA1, parse it."""
        data = await self._json(
            lambda: self._client.trade_bill(
                bill_date=bill_date.isoformat(), bill_type="ALL", tar_type="GZIP"
            ),
            changes_state=False,
            ok=(200,),
        )
        url = str(data.get("download_url") or "")
        expected = str(data.get("hash_value") or "").lower()
        if not url or data.get("hash_type") != "SHA1" or not expected:
            raise TransientError("BAD_RESPONSE", "账单应答格式错误")
        status, body = await self._call(
            lambda: self._client.download_bill(url), changes_state=False
        )
        if status != 200:
            raise _error_from_response(status, body)
        raw = body if isinstance(body, bytes) else str(body).encode()
        try:
            content = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise TransientError("BILL_CORRUPT", "账单文件解压失败") from None
        # WeChat's hash covers the uncompressed bill.
        if hashlib.sha1(content).hexdigest() != expected:
            raise TransientError("BILL_HASH_MISMATCH", "账单文件 SHA1 校验失败")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise TransientError("BILL_CORRUPT", "账单文件编码错误") from None
        return parse_trade_bill(text)
