// Behaviour every page shares; no inline scripts anywhere (the CSP forbids them).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}

// Destructive buttons ask first. Without JavaScript they still work, only without the question.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset?.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// The header's Menu button (phones): a disclosure for the navigation and the language choice.
// Without JavaScript the button stays hidden and everything shows; CSS shows the button only
// on narrow screens.
const menuToggle = document.querySelector("[data-menu-toggle]");
const menu = menuToggle && document.getElementById(menuToggle.getAttribute("aria-controls"));
if (menuToggle && menu) {
  const setOpen = (open) => {
    menuToggle.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("is-open", open);
  };
  menuToggle.hidden = false;
  menuToggle.closest(".site-header").classList.add("has-menu");
  menuToggle.addEventListener("click", () => setOpen(menuToggle.getAttribute("aria-expanded") !== "true"));
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menuToggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      menuToggle.focus();
    }
  });
}
