// Offer only the channels the chosen kind of request allows (the server checks it too).
(function () {
  const map = JSON.parse(document.getElementById("channel-map").textContent);
  const select = document.getElementById("id_channel");
  if (!select) return;
  function sync() {
    const chosen = document.querySelector('input[name="category"]:checked');
    const allowed = chosen ? map[chosen.value] : null;
    for (const option of select.options) {
      option.disabled = !!allowed && !allowed.includes(option.value);
    }
    if (select.selectedOptions.length && select.selectedOptions[0].disabled) {
      const first = [...select.options].find(o => !o.disabled);
      if (first) select.value = first.value;
    }
  }
  document.querySelectorAll('input[name="category"]').forEach(el => el.addEventListener("change", sync));
  sync();
})();
