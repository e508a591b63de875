// Rewrites wasm-bindgen's awrsr.d.ts so that it compiles under any TypeScript lib
// (scripts/build-web.sh runs it on each package; running it again changes nothing).
//
// wasm-bindgen declares `[Symbol.dispose](): void;` in every exported class. That line needs
// the esnext lib (`Symbol.dispose`): under TypeScript's default lib (5.9 and 7) or
// `--target es2022` it is an error in the package's types, and so in every shop's
// `tsc --strict` without `--skipLibCheck`. The glue defines the method only where the
// browser has `Symbol.dispose`; the types now say the same: the method is declared through a
// merged interface that has it only where the project's lib declares `Symbol.dispose`.
//
// Usage: node scripts/portable-types.mjs pkg/awrsr.d.ts [more .d.ts files…]
import { readFileSync, writeFileSync } from 'node:fs';

const DISPOSE = '    [Symbol.dispose](): void;\n';
const CLASS = /^export class (\w+) \{\n[\s\S]*?^\}\n/gm;
const HELPER = `
/**
 * \`[Symbol.dispose]()\` (the same as \`free()\`, for \`using\`) where the project's lib declares
 * \`Symbol.dispose\` (esnext), and nothing elsewhere: these types need no particular lib.
 */
type WhereDisposable = typeof globalThis extends { Symbol: { readonly dispose: infer S extends symbol } } ? { [K in S]: () => void } : {};
export {}; // so that WhereDisposable stays private: a declaration file exports everything without it
`;

/** A class declaration without its dispose line, followed by the interface that adds it back. */
function portableClass(declaration, name) {
  if (!declaration.includes(DISPOSE)) return declaration;
  return `${declaration.replace(DISPOSE, '')}export interface ${name} extends WhereDisposable {}\n`;
}

/** The declarations with every class made portable, and the helper type at the end if one was. */
function portableTypes(source) {
  const rewritten = source.replace(CLASS, portableClass);
  return rewritten === source ? source : rewritten + HELPER;
}

for (const file of process.argv.slice(2)) {
  const source = readFileSync(file, 'utf8');
  const result = portableTypes(source);
  if (result.includes(DISPOSE.trim())) throw new Error(`${file}: a [Symbol.dispose] declaration this script does not know`);
  if (result !== source) writeFileSync(file, result);
}
