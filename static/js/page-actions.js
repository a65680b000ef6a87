// Small page behaviours without inline handlers (the Content-Security-Policy forbids them):
// `data-autosubmit` on a form control submits its form when it changes; `data-print` prints.
document.addEventListener("change", (event) => {
  const control = event.target.closest("[data-autosubmit]");
  if (control && control.form) control.form.submit();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
