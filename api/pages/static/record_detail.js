// 缴费明细: one month — the payment numbers (voucher), posting, treasury date and any refund.
(function () {
  "use strict";
  if (!SB.requireSession()) return;
  var root = document.getElementById("detail");
  var POSTING = { PENDING: "记账中", ACCEPTED: "已记账", REJECTED: "记账失败" };
  var REFUND = { PROCESSING: "退款处理中", SUCCESS: "已退回原支付渠道", CLOSED: "退款关闭，人工复核中", ABNORMAL: "退款异常，人工复核中" };

  async function load() {
    var r = await SB.api("GET", "/api/v1/records/" + encodeURIComponent(root.dataset.recordId));
    if (!r.ok) { root.hidden = true; SB.showError(document, r.data); return; }
    var d = r.data;
    root.dataset.status = d.status;
    SB.text("payer-name", d.payer_name_masked);
    SB.text("month", SB.periodLabel(d.insurance, d.month));
    SB.text("insurance", d.insurance_label);
    SB.text("base", SB.yuan(d.base_fen));
    SB.text("amount", SB.yuan(d.amount_fen));
    document.getElementById("interest-row").hidden = !d.interest_fen;
    SB.text("interest", SB.yuan(d.interest_fen));
    SB.text("status", d.status_label);
    SB.text("paid-at", SB.dateTime(d.paid_at));
    document.getElementById("expected-row").hidden = !d.expected_treasury_date || Boolean(d.refund);
    SB.text("expected-date", SB.expectedDate(d.expected_treasury_date, d.expected_treasury_provisional));
    document.getElementById("treasury-row").hidden = !d.treasury_date;
    SB.text("treasury-date", d.treasury_date || "");
    SB.text("out-trade-no", d.payment.out_trade_no || "—");
    SB.text("transaction-id", d.payment.transaction_id || "—");
    if (d.posting) {
      SB.text("posting-id", d.posting.posting_id);
      SB.text("posting-state", POSTING[d.posting.state] || d.posting.state);
    }
    document.getElementById("refund").hidden = !d.refund;
    if (d.refund) {
      SB.text("refund-no", d.refund.out_refund_no);
      SB.text("refund-amount", SB.yuan(d.refund.amount_fen));
      SB.text("refund-status", REFUND[d.refund.status] || d.refund.status);
    }
    document.getElementById("progress").href = "/h5/pay/result/" + encodeURIComponent(d.contribution_id);
  }

  load().then(SB.ready);
})();
