// Progressive enhancement: refresh the interests preview while typing. Without it the Preview button does the same.
(() => {
  const input = document.getElementById('interests');
  const summary = document.getElementById('preview-summary');
  const list = document.getElementById('preview-list');
  const also = document.getElementById('preview-also');
  const alsoParts = [document.getElementById('preview-also-heading'), document.getElementById('preview-also-note')];
  if (!input || !summary || !list || !window.fetch) return;
  let timer = 0;
  let latest = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(update, 300);
  });
  async function update() {
    const request = ++latest;
    try {
      const response = await fetch('/preview?interests=' + encodeURIComponent(input.value), { headers: { Accept: 'application/json' } });
      if (!response.ok || request !== latest) return;
      const data = await response.json();
      summary.textContent = data.error ? data.error : data.summary;
      list.replaceChildren(...data.papers.map(item));
      if (also) {
        also.replaceChildren(...(data.suggestions || []).map(item));
        alsoParts.forEach(part => { if (part) part.hidden = !(data.suggestions || []).length; });
      }
    } catch {
      // Offline or server gone: the Preview button still works.
    }
  }
  function item(paper) {
    const entry = document.createElement('li');
    const link = document.createElement('a');
    link.href = paper.url;
    link.textContent = paper.title;
    entry.append(link);
    return entry;
  }
})();
