// 完税证明查询: a period range and a captcha → the certificate (number, total, PDF, verify link).
(function () {
  "use strict";
  if (!SB.requireSession()) return;
  var form = document.getElementById("query");
  var search = document.getElementById("search");
  var image = document.getElementById("captcha-image");
  var answer = document.getElementById("captcha-answer");
  var captchaId = null;
  var YEARS_BACK = 2;
  var now = new Date();
  var thisYear = now.getFullYear();
  var current = thisYear + "-" + ("0" + (now.getMonth() + 1)).slice(-2);

  // 费款所属期起止: the months of this year and the two before, up to this month.
  ["from", "to"].forEach(function (id) {
    var select = document.getElementById(id);
    for (var y = thisYear - YEARS_BACK; y <= thisYear; y += 1) {
      for (var m = 1; m <= 12; m += 1) {
        var value = y + "-" + ("0" + m).slice(-2);
        if (value > current) break;
        var o = document.createElement("option");
        o.value = value;
        o.textContent = SB.monthLabel(value);
        select.append(o);
      }
    }
  });
  document.getElementById("from").value = thisYear + "-01";
  document.getElementById("to").value = current;

  // A captcha is single use: a fresh one after every attempt.
  // The query waits for it, so no attempt is sent with a spent one.
  async function newCaptcha() {
    answer.value = "";
    search.disabled = true;
    var r = await SB.api("GET", "/api/v1/captcha");
    search.disabled = false;
    if (!r.ok) { SB.showError(form, Object.assign({}, r.data, { field: "captcha_answer" })); return; }
    captchaId = r.data.captcha_id;
    image.src = r.data.image;
  }

  function showCertificate(c) {
    SB.text("certificate-no", c.certificate_no);
    SB.text("issued-at", SB.dateTime(c.issued_at));
    SB.text("certificate-total", SB.yuan(c.total_fen));
    SB.text("verify-code", c.verify_code);
    var body = document.querySelector("#certificate-lines tbody");
    body.replaceChildren();
    c.lines.forEach(function (line) {
      var tr = document.createElement("tr");
      [SB.monthLabel(line.month), SB.yuan(line.amount_fen), line.treasury_date].forEach(function (v) {
        var td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      });
      body.append(tr);
    });
    var pending = document.getElementById("pending");
    pending.hidden = !c.not_yet_in_treasury.length;
    pending.textContent = c.not_yet_in_treasury.map(function (p) {
      return SB.monthLabel(p.month) + "尚未入库" + (p.expected_date ? "，预计" + p.expected_date + "入库" : "");
    }).join("；");
    document.getElementById("pdf-link").href = c.pdf_url;
    document.getElementById("verify-link").href = "/h5/verify/" + encodeURIComponent(c.certificate_no) +
      "?code=" + encodeURIComponent(c.verify_code);
    document.getElementById("certificate").hidden = false;
  }

  image.addEventListener("click", newCaptcha);
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    SB.clearErrors(form);
    document.getElementById("certificate").hidden = true;
    search.disabled = true;
    var r = await SB.api("POST", "/api/v1/certificates", {
      from: document.getElementById("from").value,
      to: document.getElementById("to").value,
      captcha_id: captchaId || "",
      captcha_answer: answer.value.trim()
    });
    if (r.ok) {
      showCertificate(r.data);
    } else {
      var error = Object.assign({}, r.data);
      if (error.code === "NOT_YET_IN_TREASURY" && error.expected_date) {
        error.message += "（预计入库日期：" + error.expected_date + "）";
      }
      SB.showError(form, error);
    }
    await newCaptcha();
    SB.ready();
  });
  newCaptcha().then(SB.ready);
})();
