// Seed QA's page script, put in <head> by qa.server. One delegated listener serves every
// "Copy citation" button the result pane will ever hold (gr.HTML runs no inline scripts).
document.addEventListener("click", async (event) => {
  const button = event.target.closest ? event.target.closest(".qa-copy") : null;
  if (!button) return;
  const text = button.dataset.citation || "";
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch (err) {
    // No clipboard API (plain http on another host): copy through a hidden text area.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    copied = document.execCommand("copy");
    area.remove();
  }
  button.textContent = copied ? "Copied ✓" : "Copy failed";
  setTimeout(() => { button.textContent = "Copy citation"; }, 1800);
});
// The indexing bar's Cancel button (qa/render_progress.py): stop the running build. The bar
// itself is redrawn by the page's timer, which then shows that indexing was cancelled.
document.addEventListener("click", async (event) => {
  const button = event.target.closest ? event.target.closest(".qa-cancel") : null;
  if (!button) return;
  button.disabled = true;
  button.textContent = "Cancelling…";
  try {
    await fetch(button.dataset.cancelUrl, { method: "POST" });
  } catch (err) {
    button.disabled = false;
    button.textContent = "Cancel";
  }
});
