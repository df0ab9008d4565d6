/*
 * The search page's results (both editions; see _ext/bilingual.py).
 *
 * Excerpts from the article only. Sphinx 7.4's searchtools.js takes the excerpt under each
 * result from the text of the page's [role="main"] element, which in pydata-sphinx-theme
 * holds the page's furniture as well as its article: the header's buttons and language
 * switch ("English", "Repositorio"), the printed table of contents ("Contenido"), the labels
 * of hidden cells. Those are taken out of the fetched page before Sphinx's htmlToText reads it.
 *
 * One result per page and section. A query that matches a chapter's title found the chapter
 * twice: once by its words, titled "4. X" (the numbered title of the page), and once by its
 * section titles, titled "4. X > X" (the section's title, unnumbered, differs from the
 * page's); searchtools.js drops duplicates only when the titles are equal. Results for the
 * same page and anchor are merged here, keeping the higher score and the shorter title.
 * This wraps whichever _performSearch is in place (spanish-search.js, loaded before this
 * script, replaces Sphinx's on the Spanish edition at DOMContentLoaded, before this one).
 */
"use strict";

(() => {
  const FURNITURE = [
    ".bd-header-article", "#jb-print-docs-body", ".onlyprint", ".d-print-none",
    ".bd-sidebar-secondary", ".prev-next-area", ".bd-footer-article", ".bd-footer-content",
    "footer", "details.hide > summary", ".translation-stale",
  ].join(", ");

  const onePerPlace = (results) => {
    // results are in ascending order of score (searchtools.js shows the last first).
    const kept = new Map();
    const out = [];
    for (let i = results.length - 1; i >= 0; i--) {
      const result = results[i];
      const key = `${result[0]}#${result[2]}`;
      const same = kept.get(key);
      if (same === undefined) {
        const copy = result.slice();
        kept.set(key, copy);
        out.push(copy);
      } else if (String(result[1]).length < String(same[1]).length) {
        same[1] = result[1];
      }
    }
    return out.reverse();
  };

  const patch = () => {
    if (typeof Search === "undefined" || Search._resultsPatched) return;
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(FURNITURE).forEach((el) => el.remove());
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
    const performSearch = Search._performSearch;
    Search._performSearch = (...args) => onePerPlace(performSearch(...args));
    Search._resultsPatched = true;
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", patch);
  else patch();
})();
