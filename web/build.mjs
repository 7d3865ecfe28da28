// Copy the few files the dashboard loads from its npm dependencies into vendor/ (gitignored).
// Run after `npm ci`: `node build.mjs`. No bundler: the page loads plain ES modules from src/ and these files.

import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, 'node_modules');
const vendor = join(here, 'vendor');

// [from node_modules, to vendor]
const FILES = [
  ['leaflet/dist/leaflet.js', 'leaflet/leaflet.js'],
  ['leaflet/dist/leaflet.css', 'leaflet/leaflet.css'],
  ['leaflet/dist/images', 'leaflet/images'],
  ['leaflet/LICENSE', 'leaflet/LICENSE'],
  ['chart.js/dist/chart.umd.min.js', 'chart.js/chart.umd.min.js'],
  ['chart.js/LICENSE.md', 'chart.js/LICENSE.md'],
];

const missing = FILES.map(([from]) => from).filter((from) => !existsSync(join(modules, from)));
if (missing.length) {
  console.error(`web build: missing in web/node_modules: ${missing.join(', ')}; run \`npm ci\` in web/ first`);
  process.exit(1);
}

// Build into a fresh folder and rename it into place, so a running API never serves half a vendor/.
const staging = `${vendor}.tmp`;
const old = `${vendor}.old`;
rmSync(staging, { recursive: true, force: true });
rmSync(old, { recursive: true, force: true });
for (const [from, to] of FILES) {
  mkdirSync(dirname(join(staging, to)), { recursive: true });
  cpSync(join(modules, from), join(staging, to), { recursive: true });
}
writeFileSync(join(staging, 'README.txt'), 'Built by web/build.mjs from web/package-lock.json; do not edit or commit.\n');
if (existsSync(vendor)) renameSync(vendor, old);
renameSync(staging, vendor);
rmSync(old, { recursive: true, force: true });
console.log(`web build: ${FILES.length} entries copied into ${vendor}`);
