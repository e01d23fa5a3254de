// Public verification of a certificate: number from the path, code from the query string.
(function () {
  "use strict";
  var root = document.getElementById("verify");
  var code = new URLSearchParams(window.location.search).get("code") || "";
  var verdict = document.getElementById("verdict");

  async function check() {
    var no = root.dataset.certificateNo;
    var r = await SB.api("GET", "/api/v1/certificates/" + encodeURIComponent(no) +
      "/verify?code=" + encodeURIComponent(code));
    if (r.ok && r.data.valid) {
      root.dataset.valid = "true";
      verdict.className = "verdict ok";
      verdict.textContent = "✓ 完税证明有效";
      SB.text("certificate-no", r.data.certificate_no);
      SB.text("payer", r.data.payer);
      SB.text("id-number", r.data.id_number_masked);
      SB.text("period", SB.monthLabel(r.data.from_month) + " 至 " + SB.monthLabel(r.data.to_month));
      SB.text("total", SB.yuan(r.data.total_fen));
      SB.text("issued-at", SB.dateTime(r.data.issued_at));
      document.getElementById("facts").hidden = false;
    } else {
      root.dataset.valid = "false";
      verdict.className = "verdict bad";
      verdict.textContent = "✗ " + ((r.data && r.data.message) || "未查询到该完税证明");
    }
  }

  check().then(SB.ready);
})();
