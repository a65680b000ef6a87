// The agent's reply box: insert a help article's Markdown link where the cursor is.
(function () {
  "use strict";
  const picker = document.getElementById("kb-article-link");
  const button = document.getElementById("kb-insert-link");
  const box = document.getElementById("id_reply-body");
  if (!picker || !button || !box) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    const link = picker.value;
    if (!link) return;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + link + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + link.length;
  });
})();
