// Writes www/catalogue.json (id, title, year, genres per movie) from the shipped
// data/ml-latest-small/movies.csv, for the demo storefront. Run: node scripts/make-catalogue.mjs
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** Splits one CSV line, honouring double-quoted fields with "" escapes. */
function fields(line) {
  const out = [];
  let field = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') { field += '"'; i++; }
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) { out.push(field); field = ''; }
    else field += c;
  }
  out.push(field);
  return out;
}

/** "Matrix, The" → "The Matrix" (MovieLens files the article at the end). */
function display(title) {
  const match = title.match(/^(.*), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$/);
  if (!match) return title;
  return match[2].endsWith("'") ? match[2] + match[1] : `${match[2]} ${match[1]}`;
}

const text = await readFile(join(ROOT, 'data/ml-latest-small/movies.csv'), 'utf8');
const movies = text.split(/\r?\n/).slice(1).filter(Boolean).map((line) => {
  const [id, full, genres] = fields(line);
  const match = full.trim().match(/^(.*?)\s*\((\d{4})\)\s*$/);
  return {
    id,
    title: display(match ? match[1] : full.trim()),
    year: match ? Number(match[2]) : null,
    genres: genres === '(no genres listed)' ? [] : genres.split('|'),
  };
});
await writeFile(join(ROOT, 'www/catalogue.json'), JSON.stringify(movies) + '\n');
console.log(`www/catalogue.json: ${movies.length} movies`);
