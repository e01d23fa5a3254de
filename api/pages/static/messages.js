// 我的消息: the signed-in payer's messages, newest first; each opens the page it is about.
(function () {
  "use strict";
  if (!SB.requireSession()) return;
  var list = document.getElementById("messages");

  function card(message) {
    var a = document.createElement("a");
    a.className = "message cells";
    a.dataset.kind = message.kind;
    // Links are our own page paths (/h5/...): anything else is not followed.
    a.href = message.link.indexOf("/h5/") === 0 ? message.link : "/h5/menu";
    var head = document.createElement("div");
    head.className = "cell";
    var title = document.createElement("strong");
    title.className = "title";
    title.textContent = message.title;
    var at = document.createElement("span");
    at.className = "time";
    at.textContent = SB.dateTime(message.created_at);
    head.append(title, at);
    a.append(head);
    message.body.split("\n").forEach(function (line) {
      var parts = line.split("：");
      var row = document.createElement("div");
      row.className = "cell";
      var label = document.createElement("span");
      label.className = "label";
      label.textContent = parts.length > 1 ? parts[0] : "";
      var value = document.createElement("span");
      value.textContent = parts.length > 1 ? parts.slice(1).join("：") : line;
      row.append(label, value);
      a.append(row);
    });
    var more = document.createElement("div");
    more.className = "cell link";
    more.innerHTML = '<span>查看详情</span><span class="arrow">›</span>';
    a.append(more);
    return a;
  }

  SB.api("GET", "/api/v1/messages").then(function (r) {
    var messages = r.ok ? r.data : [];
    list.replaceChildren.apply(list, messages.map(card));
    document.getElementById("empty").hidden = messages.length > 0;
    if (!r.ok) SB.text("empty", r.data.message);
    SB.ready();
  });
})();
