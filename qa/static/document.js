// Scroll the cited passage (or the marked region of a PDF page) into view.
const target = document.getElementById("passage");
if (target) target.scrollIntoView({ block: "center" });
