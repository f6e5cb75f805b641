// The book's search ranking and snippets. Sphinx inlines this file (html_search_scorer) into
// language_data.js, which only the search page loads, before searchtools.js.
//
// Ranking: a page whose own title names every word of the query comes first (the chapter on
// dropout for "dropout", not the glossary or a page that mentions it in one heading); glossary
// entries stay in the results, just below pages and sections titled with the term.
var Scorer = {
  score: (result) => {
    const [, title, anchor, descr, score] = result;
    if (descr !== null) return score;  // an object: its own score
    // a glossary entry (an index entry, which Sphinx scores up to 100) ranks like a heading
    if (anchor.startsWith("#term-")) return Math.min(score, Scorer.title);
    const query = (new URLSearchParams(window.location.search).get("q") || "").toLowerCase();
    const words = query.split(/\s+/).filter(Boolean);
    const pageTitle = title.split(" > ")[0].toLowerCase();
    return score + (words.length && words.every((word) => pageTitle.includes(word)) ? 20 : 0);
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: {0: 15, 1: 0, 2: -5},  // a glossary term (priority 1) below a heading that names it (15)
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};

// Snippets come from the article's text, not from the page's furniture (the header's buttons,
// the print-only contents, the list of pages shown without JavaScript).
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined") return;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(".headerlink, script, style, noscript, #jb-print-docs-body, .toggle-details__summary")
      .forEach((el) => el.remove());
    const article = page.querySelector("article.bd-article") || page.querySelector('[role="main"]');
    if (!article) return "";
    const section = anchor ? article.querySelector(anchor) : null;
    return (section || article).textContent;
  };
});
