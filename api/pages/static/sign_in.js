// 用户认证: the identity trio → a session token kept in sessionStorage → 社保费功能列表.
(function () {
  "use strict";
  var form = document.getElementById("sign-in");
  var button = document.getElementById("submit");
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    SB.clearErrors(form);
    button.disabled = true;
    var r = await SB.api("POST", "/api/v1/session", SB.identity(form));
    button.disabled = false;
    if (!r.ok) { SB.showError(form, r.data); await SB.identityAnswered(form, r); return; }
    // A new person: forget every trace of the previous flow in this tab.
    SB.store.clear();
    SB.store.setItem("sb.token", r.data.token);
    SB.setJSON("sb.me", r.data.person);
    window.location.href = "/h5/menu";
  });
  SB.ready();
})();
