// 缴款方式: start the contribution once per quote (Idempotency-Key kept in sessionStorage), then
// hand over to the cashier, which comes back to 支付结果. Inside WeChat the order is a JSAPI one:
// WeChat's own cashier opens over this page (WeixinJSBridge), and 支付结果 follows the
// contribution whatever the bridge answers (its "ok" is no proof of payment).
(function () {
  "use strict";
  if (!SB.requireSession()) return;
  var saved = SB.getJSON("sb.quote");
  if (!saved) { window.location.replace("/h5/menu"); return; }
  var q = saved.quote;
  var form = document.getElementById("method");
  var pay = document.getElementById("pay");
  var inFlight = false;
  SB.text("total", SB.yuan(q.total_fen));
  if (SB.inWeChat()) {
    // WeChat's cashier asks for 零钱 or a bank card itself; asking here too would only mislead.
    document.getElementById("channel-title").hidden = true;
    document.getElementById("channels").hidden = true;
    document.getElementById("wechat-choice").hidden = false;
  }

  // One key per quote, made once: a double tap, a refresh or a second visit sends the same key,
  // and the API answers with the same contribution instead of charging again.
  function keyFor(quoteId) {
    var name = "sb.idem." + quoteId;
    var key = SB.store.getItem(name);
    if (!key) { key = SB.newKey(); SB.store.setItem(name, key); }
    return key;
  }

  function resultUrl(id) { return "/h5/pay/result/" + encodeURIComponent(id); }

  function bridge() {
    if (window.WeixinJSBridge) return Promise.resolve(window.WeixinJSBridge);
    return new Promise(function (resolve) {
      document.addEventListener("WeixinJSBridgeReady", function () {
        resolve(window.WeixinJSBridge);
      }, { once: true });
    });
  }

  async function payInWeChat(params, back) {
    var jsBridge = await bridge();
    jsBridge.invoke("getBrandWCPayRequest", params, function (res) {
      var msg = (res && res.err_msg) || "";
      if (/:cancel$/.test(msg)) {
        // The payer closed WeChat's cashier: the order stays open until it expires.
        inFlight = false;
        pay.disabled = false;
        SB.showError(form, { message: "已取消支付，可再次点击下一步继续支付" });
        return;
      }
      window.location.href = back;
    });
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (inFlight) return;
    inFlight = true;
    pay.disabled = true;
    SB.clearErrors(form);
    var channel = form.querySelector("[name=channel]:checked").value;
    var r = await SB.api("POST", "/api/v1/contributions",
      { quote_id: q.quote_id, channel: channel },
      { "Idempotency-Key": keyFor(q.quote_id) });
    if (r.ok) {
      var started = r.data;
      SB.setJSON("sb.started." + q.quote_id, started);
      var back = resultUrl(started.contribution_id);
      if (started.payment && started.payment.jsapi) {
        await payInWeChat(started.payment.jsapi, back);
        return;
      }
      var cashier = started.payment && started.payment.cashier_url;
      window.location.href = cashier
        ? cashier + (cashier.indexOf("?") < 0 ? "?" : "&") + "return=" + encodeURIComponent(back)
        : back;
      return;
    }
    inFlight = false;
    pay.disabled = false;
    var slot = SB.showError(form, r.data);
    if (r.data && r.data.contribution_id && slot) {
      // MONTH_IN_FLIGHT: the month is already being paid; show that payment instead.
      var link = document.createElement("a");
      link.href = resultUrl(r.data.contribution_id);
      link.textContent = " 查看该笔缴费";
      link.id = "live-contribution";
      slot.append(link);
    }
  });
  SB.ready();
})();
