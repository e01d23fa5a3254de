// 缴费人信息 (代他人缴费): look the other person up, then the same flow with their payer_ref.
(function () {
  "use strict";
  if (!SB.requireSession()) return;
  var form = document.getElementById("payer");
  var button = document.getElementById("next");
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    SB.clearErrors(form);
    button.disabled = true;
    var r = await SB.api("POST", "/api/v1/payers/lookup", SB.identity(form));
    button.disabled = false;
    if (!r.ok) { SB.showError(form, r.data); await SB.identityAnswered(form, r); return; }
    SB.setJSON("sb.other", { payer_ref: r.data.payer_ref, person: r.data.person });
    window.location.href = "/h5/pay/confirm?for=other";
  });
  SB.ready();
})();
