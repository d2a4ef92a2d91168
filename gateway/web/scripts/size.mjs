#!/usr/bin/env node
// Prints the gzip size of what the browser loads first (index.html and the assets it links)
// and of each lazily loaded chunk. Fails when the first load exceeds the budget.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 300 * 1024;
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const linked = [...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)].map((m) => m[1]);
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

let first = gzipSync(html, { level: 9 }).length;
console.log(`first load:\n  index.html ${kb(first)}`);
for (const file of linked) {
  const size = gz(file);
  first += size;
  console.log(`  ${file} ${kb(size)}`);
}
console.log(`  total ${kb(first)} gzip (budget ${kb(BUDGET)})`);
console.log('lazy chunks:');
for (const file of readdirSync(join(dist, 'assets'))) {
  if (!linked.includes(`assets/${file}`)) console.log(`  assets/${file} ${kb(gz(`assets/${file}`))}`);
}
if (first > BUDGET) {
  console.error('first load is over budget');
  process.exit(1);
}
