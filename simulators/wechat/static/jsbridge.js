// A stand-in for WeChat's WeixinJSBridge (simulators only): getBrandWCPayRequest asks the
// simulator to check paySign, shows WeChat's cashier (零钱 or a bank card), and pays.
(function () {
  "use strict";
  if (window.WeixinJSBridge) return;

  async function post(path, body) {
    var response = await fetch("/sim/wechat/jsapi/" + path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    });
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { ok: response.ok, data: data || {} };
  }

  function element(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text !== undefined) el.textContent = text;
    return el;
  }

  var STYLE = "#wx-cashier{position:fixed;inset:0;background:rgba(0,0,0,.5);z-index:1000;" +
    "display:flex;align-items:flex-end;font-family:-apple-system,'PingFang SC',sans-serif}" +
    "#wx-cashier .sheet{background:#fff;width:100%;border-radius:12px 12px 0 0;padding:16px 16px 24px}" +
    "#wx-cashier .head{display:flex;justify-content:space-between;color:#111;font-size:16px}" +
    "#wx-cashier .close{border:0;background:none;font-size:22px;color:#888;padding:0 4px}" +
    "#wx-cashier .desc{text-align:center;color:#555;margin-top:14px;font-size:14px}" +
    "#wx-cashier .amount{text-align:center;font-size:36px;font-weight:600;margin:6px 0 16px}" +
    "#wx-cashier .amount small{font-size:20px}" +
    "#wx-cashier .label{color:#888;font-size:13px;margin:8px 0}" +
    "#wx-cashier label.way{display:flex;justify-content:space-between;padding:12px 2px;" +
    "border-top:1px solid #eee;font-size:15px}" +
    "#wx-cashier .pay{display:block;width:100%;margin-top:16px;padding:13px;border:0;" +
    "border-radius:6px;background:#07c160;color:#fff;font-size:17px}" +
    "#wx-cashier .msg{color:#fa5151;text-align:center;min-height:1.4em;margin-top:8px}";

  function cashier(order, params, done) {
    var style = element("style", {}, STYLE);
    var layer = element("div", { id: "wx-cashier", role: "dialog", "aria-label": "微信支付" });
    var sheet = element("div", { "class": "sheet" });
    var head = element("div", { "class": "head" });
    var close = element("button", { "class": "close", type: "button", "aria-label": "关闭" }, "×");
    head.append(close, element("span", {}, "微信支付"), element("span", {}, ""));
    var amount = element("div", { "class": "amount" });
    amount.append(element("small", {}, "¥"), document.createTextNode(order.amount));
    sheet.append(head, element("div", { "class": "desc" }, order.description), amount,
      element("div", { "class": "label" }, "选择付款方式"));
    [["balance", "零钱"], ["bank_card", "工商银行储蓄卡"]].forEach(function (way, i) {
      var row = element("label", { "class": "way" });
      var input = element("input", { type: "radio", name: "wx-way", value: way[0] });
      if (i === 0) input.checked = true;
      row.append(element("span", {}, way[1]), input);
      sheet.append(row);
    });
    var pay = element("button", { "class": "pay", type: "button", id: "wx-pay" }, "确认支付");
    var msg = element("div", { "class": "msg", role: "status" });
    sheet.append(pay, msg);
    layer.append(sheet);
    document.head.append(style);
    document.body.append(layer);

    function finish(result) { layer.remove(); style.remove(); done(result); }
    close.addEventListener("click", function () {
      finish("get_brand_wcpay_request:cancel");
    });
    pay.addEventListener("click", async function () {
      pay.disabled = true;
      var method = sheet.querySelector("input[name=wx-way]:checked").value;
      var r = await post("pay", { params: params, method: method });
      if (!r.ok) { msg.textContent = r.data.message || "支付失败"; pay.disabled = false; return; }
      msg.style.color = "#07c160";
      msg.textContent = "支付成功";
      setTimeout(function () { finish("get_brand_wcpay_request:ok"); }, 300);
    });
  }

  async function getBrandWCPayRequest(params, callback) {
    var r = await post("order", { params: params });
    if (!r.ok || !r.data.payable) {
      callback({ err_msg: "get_brand_wcpay_request:fail", err_desc: r.data.message || "订单不可支付" });
      return;
    }
    cashier(r.data, params, function (errMsg) { callback({ err_msg: errMsg }); });
  }

  window.WeixinJSBridge = {
    invoke: function (name, params, callback) {
      var cb = callback || function () {};
      if (name === "getBrandWCPayRequest") { getBrandWCPayRequest(params, cb); return; }
      cb({ err_msg: name + ":fail_not_supported" });
    }
  };
  // As in WeChat: pages that load before the bridge wait for this event.
  document.addEventListener("DOMContentLoaded", function () {
    document.dispatchEvent(new Event("WeixinJSBridgeReady"));
  });
})();
