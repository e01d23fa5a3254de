"""The v3 trade bill file: backtick-prefixed CSV with yuan amounts and a summary at the end."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from adapters.errors import TransientError
from adapters.payments.interface import BillRow
from domain.errors import DomainError
from domain.money import fen_to_yuan_str, yuan_to_fen

SHANGHAI = ZoneInfo("Asia/Shanghai")

HEADER = (
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
)
SUMMARY_HEADER = (
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
)
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def render_trade_bill(rows: Iterable[BillRow], *, appid: str, mchid: str) -> str:
    """The bill as WeChat writes it: every field prefixed by a backtick, amounts in yuan."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    count = settled = refunded = 0
    for r in rows:
        is_refund = r.out_refund_no is not None
        count += 1
        settled += r.amount_fen
        refunded += r.refund_fen
        fields = [
            r.trade_time.astimezone(SHANGHAI).strftime(_TIME_FORMAT),
            appid,
            mchid,
            "0",
            "",
            r.transaction_id,
            r.out_trade_no,
            "",  # 用户标识 (openid) is personal data: never simulated into files
            "JSAPI",
            r.trade_state,
            "OTHERS",
            "CNY",
            fen_to_yuan_str(r.amount_fen),
            "0.00",
            "50" + r.transaction_id[2:] if is_refund else "0",
            r.out_refund_no or "0",
            fen_to_yuan_str(r.refund_fen),
            "0.00",
            "ORIGINAL" if is_refund else "",
            r.refund_status or "",
            "社会保险费",
            "",
            "0.00000",
            "0.60%",
            fen_to_yuan_str(r.amount_fen),
            fen_to_yuan_str(r.refund_fen),
            "",
        ]
        writer.writerow(["`" + f for f in fields])
    writer.writerow(SUMMARY_HEADER)
    summary = [str(count), fen_to_yuan_str(settled), fen_to_yuan_str(refunded), "0.00"]
    summary += ["0.00000", fen_to_yuan_str(settled), fen_to_yuan_str(refunded)]
    writer.writerow(["`" + f for f in summary])
    return out.getvalue()


def _fen(value: str) -> int:
    try:
        return yuan_to_fen(value) if value else 0
    except DomainError:
        raise TransientError("BILL_MALFORMED", "账单金额格式错误") from None


def parse_trade_bill(text: str) -> list[BillRow]:
    """Rows of a downloaded bill; the summary at the end is read past, not returned."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        return []
    index = {name.strip(): i for i, name in enumerate(header)}
    missing = {"交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额"} - index.keys()
    if missing:
        raise TransientError("BILL_MALFORMED", "账单表头缺少字段")
    rows: list[BillRow] = []
    for raw in reader:
        if not raw or not any(f.strip() for f in raw):
            continue
        if raw[0].strip() == SUMMARY_HEADER[0]:
            break  # the summary header: one line of totals follows, nothing else
        if len(raw) != len(header):
            # A shifted column would put some other field's value into an amount.
            raise TransientError("BILL_MALFORMED", "账单行字段数与表头不符")
        fields = [f.strip().removeprefix("`") for f in raw]

        def get(name: str, fields: list[str] = fields) -> str:
            i = index.get(name)
            return fields[i] if i is not None and i < len(fields) else ""

        try:
            at = datetime.strptime(get("交易时间"), _TIME_FORMAT).replace(tzinfo=SHANGHAI)
        except ValueError:
            raise TransientError("BILL_MALFORMED", "账单交易时间格式错误") from None
        refund_no = get("商户退款单号")
        rows.append(
            BillRow(
                trade_time=at,
                out_trade_no=get("商户订单号"),
                transaction_id=get("微信订单号"),
                trade_state=get("交易状态"),
                amount_fen=_fen(get("应结订单金额")),
                refund_fen=_fen(get("退款金额")),
                out_refund_no=refund_no if refund_no not in ("", "0") else None,
                refund_status=get("退款状态") or None,
            )
        )
    return rows
