// Help articles beside the new-ticket form, refreshed while the subject is typed.
// Progressive enhancement: without this script the server renders suggestions when the form is
// shown again, and the form works the same.
(function () {
  "use strict";
  const box = document.getElementById("kb-suggestions");
  const subject = document.getElementById("id_subject");
  if (!box || !subject || !window.fetch) return;
  const url = box.dataset.suggestUrl;
  const list = box.querySelector(".kb-suggestions-list");
  const empty = box.querySelector(".kb-suggestions-empty");
  let timer = null;
  let last = subject.value.trim();
  let controller = null;

  function render(articles) {
    list.replaceChildren();
    for (const article of articles) {
      const item = document.createElement("li");
      item.className = "py-2 border-top";
      const link = document.createElement("a");
      link.href = article.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = article.title;
      const snippet = document.createElement("div");
      snippet.className = "small text-body-secondary";
      // Escaped by the server; only <mark> is added around the words found.
      snippet.innerHTML = article.snippet_html;
      item.append(link, snippet);
      list.append(item);
    }
    empty.classList.toggle("d-none", articles.length > 0);
  }

  function lookUp() {
    const text = subject.value.trim();
    if (text === last) return;
    last = text;
    if (text.length < 3) {
      render([]);
      return;
    }
    if (controller) controller.abort();
    controller = new AbortController();
    fetch(url + "?q=" + encodeURIComponent(text), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller.signal,
    })
      .then((response) => (response.ok ? response.json() : { articles: [] }))
      .then((data) => render(data.articles || []))
      .catch(() => {});
  }

  subject.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 300);
  });
})();
