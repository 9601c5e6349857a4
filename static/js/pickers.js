// Pickers for long lists, as progressive enhancement: without this module the page keeps a
// plain <select> and plain checkboxes, which work as they are.
//
// select[data-combobox]: becomes an editable combobox with a filtered list popup, after the
//   WAI-ARIA Authoring Practices "combobox with list autocomplete" pattern: type to filter,
//   Down/Up to move, Enter to choose, Escape to close (or to undo the typing). The select
//   stays in the form, hidden, and carries the chosen value.
// fieldset[data-chip-filter]: a box above a long list of checkbox chips hides the chips
//   that do not match what is typed (chips already ticked always stay in view).

const fold = (text) =>
  text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();

const matches = (haystack, words) => words.every((word) => haystack.includes(word));

let counter = 0;

function enhanceSelect(select) {
  const id = select.id;
  counter += 1;
  const listId = `${id}-listbox`;
  const input = document.createElement("input");
  input.type = "text";
  input.id = id; // the label's for= and the error summary's #link now reach the input
  select.id = `${id}-select`;
  input.className = "combobox-input";
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listId);
  input.autocomplete = "off";
  input.spellcheck = false;
  for (const name of ["aria-describedby", "aria-invalid"]) {
    if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
  }
  if (select.required) input.setAttribute("aria-required", "true");
  input.placeholder = select.dataset.placeholder || "";

  const list = document.createElement("ul");
  list.id = listId;
  list.className = "combobox-list";
  list.setAttribute("role", "listbox");
  const label = document.querySelector(`label[for="${id}"]`);
  if (label) {
    label.id = label.id || `${id}-label`;
    list.setAttribute("aria-labelledby", label.id);
  }
  list.hidden = true;

  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");

  // One entry per real option; the group (broad field) is searched too and shown as a heading.
  const entries = [];
  let lastGroup = null;
  for (const option of select.querySelectorAll("option")) {
    if (!option.value) continue;
    const group = option.parentElement.tagName === "OPTGROUP" ? option.parentElement.label : "";
    if (group && group !== lastGroup) {
      const heading = document.createElement("li");
      heading.setAttribute("role", "presentation");
      heading.className = "combobox-group";
      heading.textContent = group;
      list.append(heading);
      lastGroup = group;
    }
    const item = document.createElement("li");
    item.id = `${id}-option-${counter}-${entries.length}`;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    item.className = "combobox-option";
    item.textContent = option.textContent;
    item.dataset.value = option.value;
    list.append(item);
    entries.push({ option, item, group, text: fold(`${option.textContent} ${group}`) });
  }

  const wrapper = document.createElement("div");
  wrapper.className = "combobox";
  select.after(wrapper);
  wrapper.append(input, list, status);
  select.hidden = true;
  select.tabIndex = -1;
  select.setAttribute("aria-hidden", "true");

  let active = null;

  const chosenLabel = () => (select.selectedOptions[0]?.value ? select.selectedOptions[0].textContent : "");
  const visible = () => entries.filter((entry) => !entry.item.hidden);

  function setActive(entry) {
    if (active) active.item.setAttribute("aria-selected", "false");
    active = entry;
    if (entry) {
      entry.item.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", entry.item.id);
      entry.item.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function filter() {
    const words = fold(input.value === chosenLabel() ? "" : input.value)
      .split(/\s+/)
      .filter(Boolean);
    let shown = 0;
    for (const entry of entries) {
      entry.item.hidden = !matches(entry.text, words);
      if (!entry.item.hidden) shown += 1;
    }
    // A group heading shows only when one of its fields does.
    for (const heading of list.querySelectorAll(".combobox-group")) {
      let next = heading.nextElementSibling;
      let any = false;
      while (next && !next.classList.contains("combobox-group")) {
        if (!next.hidden) any = true;
        next = next.nextElementSibling;
      }
      heading.hidden = !any;
    }
    const template = shown ? select.dataset.results : select.dataset.noResults;
    status.textContent = (template || "").replace("{count}", shown);
    if (active && active.item.hidden) setActive(null);
    return shown;
  }

  function open() {
    if (!list.hidden) return;
    filter();
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    setActive(null);
  }

  function choose(entry) {
    select.value = entry.option.value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    input.value = entry.option.textContent;
    close();
  }

  function move(step) {
    const shown = visible();
    if (!shown.length) return;
    const index = shown.indexOf(active);
    const next = index < 0 ? (step > 0 ? 0 : shown.length - 1) : (index + step + shown.length) % shown.length;
    setActive(shown[next]);
  }

  input.value = chosenLabel();

  input.addEventListener("input", () => {
    open();
    filter();
    setActive(visible()[0] || null);
  });

  input.addEventListener("keydown", (event) => {
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (list.hidden) open();
        if (!event.altKey) move(1);
        break;
      case "ArrowUp":
        event.preventDefault();
        if (list.hidden) open();
        move(-1);
        break;
      case "Enter":
        // Enter picks the highlighted field; it must not send the form half filled in.
        if (!list.hidden && active) {
          event.preventDefault();
          choose(active);
        }
        break;
      case "Escape":
        if (!list.hidden) {
          event.preventDefault();
          close();
        } else if (input.value !== chosenLabel()) {
          event.preventDefault();
          input.value = chosenLabel();
        }
        break;
      default:
        break;
    }
  });

  input.addEventListener("click", () => (list.hidden ? open() : close()));

  // mousedown would move the focus away from the input (and close the list) before the click.
  list.addEventListener("mousedown", (event) => event.preventDefault());
  list.addEventListener("click", (event) => {
    const item = event.target.closest("[role=option]");
    const entry = entries.find((candidate) => candidate.item === item);
    if (entry) choose(entry);
  });

  input.addEventListener("blur", () => {
    close();
    // Leaving the box with half a word in it keeps the field chosen before; an emptied box
    // chooses nothing (the form then says the field is needed).
    if (!input.value.trim()) {
      select.value = "";
    } else if (input.value !== chosenLabel()) {
      const exact = entries.find((entry) => fold(entry.option.textContent) === fold(input.value.trim()));
      if (exact) choose(exact);
      else input.value = chosenLabel();
    }
  });
}

function enhanceChipFilter(fieldset) {
  const chips = [...fieldset.querySelectorAll(".chip")];
  const id = `${fieldset.id}-filter`;
  const box = document.createElement("div");
  box.className = "chip-filter";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = fieldset.dataset.chipFilter;
  const input = document.createElement("input");
  input.type = "search";
  input.id = id;
  input.autocomplete = "off";
  box.append(label, input);
  fieldset.querySelector(".chips").before(box);
  input.addEventListener("input", () => {
    const words = fold(input.value).split(/\s+/).filter(Boolean);
    for (const chip of chips) {
      const ticked = chip.querySelector("input").checked;
      chip.hidden = !ticked && !matches(fold(chip.textContent), words);
    }
  });
  // Enter in the filter box would send the whole form.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();
  });
}

for (const select of document.querySelectorAll("select[data-combobox]")) enhanceSelect(select);
for (const fieldset of document.querySelectorAll("fieldset[data-chip-filter]")) enhanceChipFilter(fieldset);
