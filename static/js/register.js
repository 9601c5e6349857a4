// Registration: show the new-school fields only when needed; suggest towns as you type.
const form = document.getElementById("register-form");
const schoolSelect = document.getElementById("school_id");
const newSchool = document.getElementById("new-school");
const country = document.getElementById("country");
const city = document.getElementById("city");
const options = document.getElementById("city-options");

function toggleNewSchool() {
  newSchool.hidden = schoolSelect.value !== "new";
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

if (form) {
  toggleNewSchool();
  schoolSelect.addEventListener("change", toggleNewSchool);
  city.addEventListener("input", suggestCities);
  country.addEventListener("change", suggestCities);
}
