// The pages work without this script; it only lets Space press a chip, as on a button.
document.addEventListener("keydown", function (event) {
  var el = event.target;
  if (event.key === " " && el instanceof HTMLAnchorElement && el.getAttribute("role") === "button") {
    event.preventDefault();
    el.click();
  }
});
