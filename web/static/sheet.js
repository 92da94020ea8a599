// The reflection sheet's print button (no inline scripts under the CSP).
document.getElementById("print")?.addEventListener("click", () => window.print());
