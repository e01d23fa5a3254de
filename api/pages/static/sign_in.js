// 用户认证: the identity trio → a session token kept in sessionStorage → 社保费功能列表.
// Inside WeChat, a payer whose WeChat is bound (after an earlier 用户认证) is signed in silently.
(function () {
  "use strict";
  var form = document.getElementById("sign-in");
  var button = document.getElementById("submit");

  function signedIn(data) {
    // A new person: forget every trace of the previous flow in this tab.
    SB.store.clear();
    SB.store.setItem("sb.token", data.token);
    SB.setJSON("sb.me", data.person);
    window.location.href = "/h5/menu";
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    SB.clearErrors(form);
    button.disabled = true;
    var r = await SB.api("POST", "/api/v1/session", SB.identity(form));
    button.disabled = false;
    if (!r.ok) { SB.showError(form, r.data); await SB.identityAnswered(form, r); return; }
    signedIn(r.data);
  });

  async function silently() {
    // Not after the payer signed out in this tab: they asked to leave.
    if (!SB.inWeChat() || SB.store.getItem("sb.signedOut")) return false;
    var r = await SB.api("POST", "/api/v1/session/wechat");
    if (!r.ok) return false;
    signedIn(r.data);
    return true;
  }

  silently().then(function (done) { if (!done) SB.ready(); });
})();
