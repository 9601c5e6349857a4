// Behaviour every page shares; no inline scripts anywhere (the CSP forbids them).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
