// 支付结果: follows the contribution live (polling) through paid, posting, posted, in treasury,
// certificate ready — or the refund — with the expected treasury date.
(function () {
  "use strict";
  if (!SB.requireSession()) return;
  var root = document.getElementById("result");
  var id = root.dataset.contributionId;
  var POLL_MS = 1500;
  var TERMINAL = ["COMPLETED", "REJECTED", "EXPIRED", "CANCELLED", "REFUNDED"];
  var STEPS = [
    ["PAID", "已支付"],
    ["POSTING", "记账中"],
    ["POSTED", "已记账"],
    ["IN_TREASURY", "已入库"],
    ["COMPLETED", "可开具完税证明"]
  ];
  var REFUND_STEPS = [["REFUNDING", "退款中"], ["REFUNDED", "已退款"], ["MANUAL_REVIEW", "人工复核中"]];
  var BAD = ["REJECTED", "EXPIRED", "CANCELLED", "REFUNDING", "REFUNDED", "MANUAL_REVIEW"];
  var CHANNELS = { wechat_balance: "微信零钱", bank_card: "银行卡" };

  function renderSteps(view) {
    var reached = {};
    view.timeline.forEach(function (t) { reached[t.status] = t.at; });
    var list = document.getElementById("steps");
    list.replaceChildren();
    var refunded = REFUND_STEPS.some(function (s) { return reached[s[0]]; });
    // After a refund the steps never reached are moot: show what happened, then the refund.
    var steps = STEPS.filter(function (s) { return !refunded || reached[s[0]]; });
    REFUND_STEPS.forEach(function (s) { if (reached[s[0]]) steps.push(s); });
    steps.forEach(function (s) {
      var li = document.createElement("li");
      li.dataset.status = s[0];
      li.textContent = s[1];
      if (reached[s[0]]) {
        li.className = REFUND_STEPS.some(function (r) { return r[0] === s[0]; }) ? "bad" : "done";
        var at = document.createElement("span");
        at.className = "at";
        at.textContent = SB.dateTime(reached[s[0]]);
        li.append(at);
      }
      list.append(li);
    });
  }

  function render(view) {
    var status = view.status;
    root.dataset.status = status;
    root.className = "result" + (BAD.indexOf(status) >= 0 ? " bad" : (status === "COMPLETED" || status === "IN_TREASURY" ? " ok" : ""));
    SB.text("status-icon", BAD.indexOf(status) >= 0 ? "!" : (status === "AWAITING_PAYMENT" || status === "VERIFYING" ? "…" : "✓"));
    SB.text("status-label", view.status_label);
    SB.text("total", SB.yuan(view.total_fen));
    SB.text("payer-name", view.payer.name_masked);
    SB.text("months", view.months.map(function (m) { return SB.periodLabel(view.insurance, m); }).join("、"));
    SB.text("expected-date", SB.expectedDate(view.expected_treasury_date, view.expected_treasury_provisional) || "—");
    document.getElementById("treasury-row").hidden = !view.treasury_date;
    SB.text("treasury-date", view.treasury_date || "");
    // What actually paid, once the channel said so (inside WeChat the payer picks it there).
    var paidWith = (view.payment && view.payment.paid_with) || view.channel;
    SB.text("channel", CHANNELS[paidWith] || paidWith);
    var p = view.payment;
    if (p) {
      SB.text("out-trade-no", p.out_trade_no);
      SB.text("transaction-id", p.transaction_id || "—");
      SB.text("paid-at", SB.dateTime(p.paid_at));
    }
    var goPay = document.getElementById("go-pay");
    goPay.hidden = !(status === "AWAITING_PAYMENT" && p && p.cashier_url);
    if (!goPay.hidden) {
      goPay.href = p.cashier_url + "?return=" + encodeURIComponent(window.location.pathname);
    }
    var refunding = view.refund || ["REFUNDING", "REFUNDED", "MANUAL_REVIEW"].indexOf(status) >= 0;
    document.getElementById("refund").hidden = !refunding;
    document.getElementById("expected-row").hidden = Boolean(refunding) || !view.expected_treasury_date;
    if (view.refund) {
      var labels = { PROCESSING: "退款处理中", SUCCESS: "已退回原支付渠道", CLOSED: "退款关闭，人工复核中", ABNORMAL: "退款异常，人工复核中" };
      SB.text("refund-status", labels[view.refund.status] || view.refund.status);
      SB.text("refund-no", view.refund.out_refund_no);
      SB.text("refund-amount", SB.yuan(view.refund.amount_fen));
    }
    document.getElementById("to-certificates").hidden = !view.certificate_ready;
    renderSteps(view);
  }

  async function poll() {
    var r = await SB.api("GET", "/api/v1/contributions/" + encodeURIComponent(id));
    if (r.ok) {
      SB.clearErrors(document);
      render(r.data);
      SB.ready();
      if (TERMINAL.indexOf(r.data.status) >= 0) return;
    } else {
      SB.showError(document, r.data);
      if (r.status === 401 || r.status === 404) return;
    }
    window.setTimeout(poll, POLL_MS);
  }

  poll();
})();
