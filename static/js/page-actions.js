// Small page behaviours without inline handlers (the Content-Security-Policy forbids them):
// `data-autosubmit` on a form control submits its form when it changes; `data-print` prints;
// `data-collapse="ID"` on a button shows or hides the element ID (the menu on narrow screens);
// `data-dismiss-alert` closes its alert. These are all the pages need of Bootstrap's JavaScript,
// which is therefore not loaded.
document.addEventListener("change", (event) => {
  const control = event.target.closest("[data-autosubmit]");
  if (control && control.form) control.form.submit();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
  const toggle = event.target.closest("[data-collapse]");
  const target = toggle && document.getElementById(toggle.dataset.collapse);
  if (target) {
    const shown = target.classList.toggle("show");
    toggle.setAttribute("aria-expanded", String(shown));
    toggle.classList.toggle("collapsed", !shown);
  }
  const close = event.target.closest("[data-dismiss-alert]");
  if (close && close.closest(".alert")) close.closest(".alert").remove();
});
