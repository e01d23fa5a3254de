// 社保费功能列表: who is signed in, and the entries of the manual.
(function () {
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
    window.location.href = "/h5/";
  });
  SB.ready();
})();
