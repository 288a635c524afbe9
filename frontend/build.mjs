// Build GOV.UK Frontend assets into ../static/govuk/ (committed output).
// Run: npm ci && npm run build
import * as sass from "sass";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkgDist = join(here, "node_modules/govuk-frontend/dist/govuk");
const out = join(here, "../static/govuk");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "css"), { recursive: true });
mkdirSync(join(out, "js"), { recursive: true });

// 1. CSS: compressed, no source map.
const result = sass.compile(join(here, "app.scss"), {
  style: "compressed",
  sourceMap: false,
  importers: [new sass.NodePackageImporter(here)],
  quietDeps: true,
});
writeFileSync(join(out, "css/app.css"), result.css + "\n");

// 2. JS: the package's ES module build, plus its source map (the .js ends
//    with a sourceMappingURL comment, so the map must exist beside it).
cpSync(join(pkgDist, "govuk-frontend.min.js"), join(out, "js/govuk-frontend.min.js"));
cpSync(join(pkgDist, "govuk-frontend.min.js.map"), join(out, "js/govuk-frontend.min.js.map"));

// 3. Assets, minus the GDS Transport fonts (not licensed for use outside GOV.UK).
cpSync(join(pkgDist, "assets"), join(out, "assets"), {
  recursive: true,
  filter: (src) => !src.split(/[\\/]/).includes("fonts"),
});

// 4. Licence (the npm package declares MIT but ships no LICENSE file).
const version = JSON.parse(
  readFileSync(join(here, "node_modules/govuk-frontend/package.json"), "utf8"),
).version;
writeFileSync(join(out, "LICENSE.txt"), readFileSync(join(here, "LICENSE-govuk-frontend.txt"), "utf8").replace("@VERSION@", version));

console.log(`Built govuk-frontend ${version} into ${out}`);
