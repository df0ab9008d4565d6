/*
 * Spanish search that ignores accents (Spanish edition only; see _ext/bilingual.py).
 *
 * The stemmer (language_data.js) already folds accents in the words typed, as the index
 * does in the words of the pages. Sphinx 7.4's searchtools.js also compares the query,
 * unstemmed, with section titles and index entries (the glossary's terms), and looks for it
 * in the page text to pick the excerpt shown under a result: those three comparisons are
 * redone here with accents folded on both sides, so that "atencion" finds the titles and
 * glossary terms that "atención" finds and shows the prose around «atención» rather than a
 * `from atencion import` line. The two functions below are Sphinx 7.4.7's, with only the
 * comparisons changed (marked "fold"), and the excerpt taken from the prose, code left out,
 * when the words are in the prose; foldSpanish keeps the length of the text, so the
 * positions found in the folded text hold in the original.
 */
"use strict";

(() => {
  const patch = () => {
    if (typeof Search === "undefined" || typeof foldSpanish === "undefined") return;

    Search._performSearch = (query, searchTerms, excludedTerms, highlightTerms, objectTerms) => {
      const filenames = Search._index.filenames;
      const docNames = Search._index.docnames;
      const titles = Search._index.titles;
      const allTitles = Search._index.alltitles;
      const indexEntries = Search._index.indexentries;

      const normalResults = [];
      const nonMainIndexResults = [];

      _removeChildren(document.getElementById("search-progress"));

      const queryLower = foldSpanish(query.toLowerCase().trim());  // fold
      for (const [title, foundTitles] of Object.entries(allTitles)) {
        if (foldSpanish(title.toLowerCase().trim()).includes(queryLower) && (queryLower.length >= title.length / 2)) {  // fold
          for (const [file, id] of foundTitles) {
            const score = Math.round(Scorer.title * queryLower.length / title.length);
            const boost = titles[file] === title ? 1 : 0;
            normalResults.push([
              docNames[file],
              titles[file] !== title ? `${titles[file]} > ${title}` : title,
              id !== null ? "#" + id : "",
              null,
              score + boost,
              filenames[file],
            ]);
          }
        }
      }

      for (const [entry, foundEntries] of Object.entries(indexEntries)) {
        if (foldSpanish(entry.toLowerCase()).includes(queryLower) && (queryLower.length >= entry.length / 2)) {  // fold
          for (const [file, id, isMain] of foundEntries) {
            const score = Math.round(100 * queryLower.length / entry.length);
            const result = [docNames[file], titles[file], id ? "#" + id : "", null, score, filenames[file]];
            if (isMain) normalResults.push(result);
            else nonMainIndexResults.push(result);
          }
        }
      }

      objectTerms.forEach((term) => normalResults.push(...Search.performObjectSearch(term, objectTerms)));
      normalResults.push(...Search.performTermsSearch(searchTerms, excludedTerms));

      if (Scorer.score) {
        normalResults.forEach((item) => (item[4] = Scorer.score(item)));
        nonMainIndexResults.forEach((item) => (item[4] = Scorer.score(item)));
      }

      normalResults.sort(_orderResultsByScoreThenName);
      nonMainIndexResults.sort(_orderResultsByScoreThenName);

      let results = [...nonMainIndexResults, ...normalResults];
      const seen = new Set();
      results = results.reverse().reduce((acc, result) => {
        const resultStr = result.slice(0, 4).concat([result[5]]).map((v) => String(v)).join(",");
        if (!seen.has(resultStr)) {
          acc.push(result);
          seen.add(resultStr);
        }
        return acc;
      }, []);
      return results.reverse();
    };

    // The excerpt comes from the prose when the words are there, from the code otherwise:
    // "atencion" is also the library's name, in code and in the prose's inline code.
    const withoutCode = (htmlText) => {
      const doc = new DOMParser().parseFromString(htmlText, "text/html");
      doc.querySelectorAll("pre, code, .highlight, .cell_input").forEach((el) => el.remove());
      return doc.documentElement.outerHTML;
    };
    const firstMatch = (text, keywords) => {
      const textLower = foldSpanish(text.toLowerCase());  // fold
      return [...keywords]
        .map((k) => textLower.indexOf(foldSpanish(k.toLowerCase())))  // fold
        .filter((i) => i > -1)
        .slice(-1)[0];
    };

    Search.makeSearchSummary = (htmlText, keywords, anchor) => {
      let text = Search.htmlToText(withoutCode(htmlText), anchor);
      let actualStartPosition = firstMatch(text, keywords);
      if (actualStartPosition === undefined) {
        text = Search.htmlToText(htmlText, anchor);
        actualStartPosition = firstMatch(text, keywords);
      }
      if (text === "") return null;
      const startWithContext = Math.max(actualStartPosition - 120, 0);

      const top = startWithContext === 0 ? "" : "...";
      const tail = startWithContext + 240 < text.length ? "..." : "";

      const summary = document.createElement("p");
      summary.classList.add("context");
      summary.textContent = top + text.substr(startWithContext, 240).trim() + tail;
      return summary;
    };
  };

  // searchtools.js comes after this script and runs the search of the page's URL when the
  // document is loaded: patch before it does (listeners run in the order they were added).
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", patch);
  else patch();
})();
