// Reads a JSON array of texts (argv[2]) and writes, as JSON, where static/backstay/tiling.mjs's
// `tile` (on canonical_scan.mjs) answers otherwise than the reference on the browser's own JSON
// (tile_by_json.mjs), with how many texts each tiled (tests/unit/browser/test_canonical_scan.py).
import { readFileSync } from "node:fs";

import { tile } from "../../../../static/backstay/tiling.mjs";
import { tileByJson } from "./tile_by_json.mjs";

const plain = (found) => JSON.stringify(found, (_, value) => (ArrayBuffer.isView(value) ? Array.from(value) : value));
const texts = JSON.parse(readFileSync(process.argv[2], "utf8"));
const minCount = Number(process.argv[3] || "1");
const differ = [];
let tiled = 0;
for (const text of texts) {
  let scanned;
  try {
    scanned = plain(tile(text, minCount));
  } catch (error) {
    scanned = `threw ${error}`;
  }
  const reference = plain(tileByJson(text, minCount));
  if (scanned !== reference) differ.push({ text, scanned, reference });
  if (reference !== "null") tiled++;
}
process.stdout.write(JSON.stringify({ differ, tiled, count: texts.length }));
