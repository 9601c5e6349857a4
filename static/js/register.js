// Registration: show the new-school fields only when needed; suggest towns as you type.
const form = document.getElementById("register-form");
const schoolSelect = document.getElementById("school_id");
const newSchool = document.getElementById("new-school");
const country = document.getElementById("country");
const city = document.getElementById("city");
const options = document.getElementById("city-options");
// Needed for a new school only: marked required while the new-school fields are shown.
const neededForNewSchool = [document.getElementById("school_name"), country, city];

function toggleNewSchool() {
  const registeringSchool = schoolSelect.value === "new";
  newSchool.hidden = !registeringSchool;
  for (const input of neededForNewSchool) {
    input.required = registeringSchool;
  }
}

let pending = null;
async function suggestCities() {
  if (!country.value) return;
  pending?.abort();
  pending = new AbortController();
  const url = `/api/cities?country=${encodeURIComponent(country.value)}&q=${encodeURIComponent(city.value)}`;
  try {
    const response = await fetch(url, { signal: pending.signal });
    if (!response.ok) return;
    const { cities } = await response.json();
    options.replaceChildren(
      ...cities.map((c) => Object.assign(document.createElement("option"), { value: c.name })),
    );
  } catch (error) {
    if (error.name !== "AbortError") throw error;
  }
}

// One request once typing pauses, not one per key.
let typingTimer = null;
function suggestCitiesSoon() {
  clearTimeout(typingTimer);
  typingTimer = setTimeout(suggestCities, 150);
}

if (form) {
  toggleNewSchool();
  schoolSelect.addEventListener("change", toggleNewSchool);
  city.addEventListener("input", suggestCitiesSoon);
  country.addEventListener("change", () => {
    options.replaceChildren(); // towns of the previous country no longer apply
    suggestCities();
  });
}
