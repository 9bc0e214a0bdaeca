// Scroll the cited passage (on a PDF page: its first marked line) into view.
const target = document.querySelector(".pdf-mark") || document.getElementById("passage");
if (target) target.scrollIntoView({ block: "center" });
