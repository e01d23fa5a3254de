// 社保费功能列表: who is signed in, and the entries of the manual.
(async function () {
  "use strict";
  if (!SB.requireSession()) return;
  var me = SB.getJSON("sb.me") || {};
  var who = document.getElementById("who");
  var name = document.createElement("strong");
  name.textContent = me.name_masked || "";
  var sub = document.createElement("div");
  sub.className = "sub";
  sub.textContent = SB.idTypeLabel(me.id_type) + " " + (me.id_number_masked || "");
  who.append(name, sub);
  document.getElementById("sign-out").addEventListener("click", async function () {
    // End the session on the server too: a token copied from this tab stops working.
    await SB.api("DELETE", "/api/v1/session");
    SB.store.clear();
    SB.store.setItem("sb.signedOut", "1");
    window.location.href = "/h5/";
  });
  // A bound WeChat signs the payer in by itself; they may undo that here.
  var unbind = document.getElementById("wechat-unbind");
  var bound = await SB.api("GET", "/api/v1/wechat/binding");
  unbind.hidden = !(bound.ok && bound.data.bound);
  unbind.addEventListener("click", async function () {
    unbind.disabled = true;
    var r = await SB.api("DELETE", "/api/v1/wechat/binding");
    unbind.disabled = false;
    if (r.ok) { unbind.hidden = true; SB.text("wechat-note", "已解除微信绑定"); }
    else { SB.text("wechat-note", (r.data && r.data.message) || "操作失败"); }
  });
  // 缴费提醒: opt in or out; the box shows what the server holds, never a guess.
  var reminders = document.getElementById("reminders");
  reminders.addEventListener("change", async function () {
    reminders.disabled = true;
    var r = await SB.api("PUT", "/api/v1/messages/settings", { reminders: reminders.checked });
    if (r.ok) reminders.checked = r.data.reminders;
    else reminders.checked = !reminders.checked;
    SB.text("reminders-note", r.ok
      ? (r.data.reminders ? "已开启缴费提醒。" : "已关闭缴费提醒。")
      : r.data.message);
    reminders.disabled = false;
  });
  SB.api("GET", "/api/v1/messages/settings").then(function (r) {
    if (r.ok) {
      reminders.checked = r.data.reminders;
      reminders.disabled = false;
    }
    SB.ready();
  });
})();
