// The reference the scanner (static/backstay/canonical_scan.mjs) is tested against: the tiler as
// it was written on the browser's own JSON - JSON.parse, then each element's JSON.stringify
// found at its place in the text.

// Code points in a string: its UTF-16 units less one per surrogate pair.
function codePoints(text) {
  let pairs = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { pairs++; i++; }
    }
  }
  return text.length - pairs;
}

const LONE_SURROGATE = /\p{Cs}/u;

// Deeper than this, a module is left to Python, which reads (or refuses) it as it would any
// other: the browser's JSON reads deeper values than Python's does.
const MAX_DEPTH = 100;

// Whether brackets outside strings nest deeper than `limit` anywhere in the text.
function nestsDeeper(text, limit) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (inString) {
      if (unit === 0x5c) i++; // a backslash: the next unit is escaped
      else if (unit === 0x22) inString = false;
    } else if (unit === 0x22) {
      inString = true;
    } else if (unit === 0x5b || unit === 0x7b) {
      if (++depth > limit) return true;
    } else if (unit === 0x5d || unit === 0x7d) {
      depth--;
    }
  }
  return false;
}

// Where the elements of `text` are, if it is an array of at least `minCount` elements whose text
// is exactly each element's JSON.stringify, joined by commas between brackets; null otherwise
// (and for anything the browser's JSON cannot read or write back: Python then reads it).
// Offsets count code points (as Python's str does). Ids are encoded as RecordIds.encode does.
export function tileByJson(text, minCount) {
  try {
    return tileOrNull(text, minCount);
  } catch (_) {
    return null;
  }
}

function tileOrNull(text, minCount) {
  if (text.charCodeAt(0) !== 0x5b || text.charCodeAt(text.length - 1) !== 0x5d) return null;
  if (nestsDeeper(text, MAX_DEPTH)) return null;
  const value = JSON.parse(text);
  if (!Array.isArray(value) || value.length < minCount) return null;
  const count = value.length;
  const starts = new Int32Array(count);
  const lengths = new Int32Array(count);
  const ends = new Int32Array(count);
  const absent = new Uint8Array(count);
  const ids = [];
  const seen = new Set();
  let records = true;
  let at = 1; // in UTF-16 units
  let point = 1; // in code points
  let idEnd = 0;
  for (let i = 0; i < count; i++) {
    const element = value[i];
    const written = JSON.stringify(element);
    if (written === undefined || !text.startsWith(written, at)) return null;
    const length = codePoints(written);
    starts[i] = point;
    lengths[i] = length;
    at += written.length;
    point += length;
    if (text.charCodeAt(at) !== (i === count - 1 ? 0x5d : 0x2c)) return null;
    at += 1;
    point += 1;
    const id = element !== null && typeof element === "object" && !Array.isArray(element)
      && Object.hasOwn(element, "id") && typeof element.id === "string" ? element.id : null;
    if (id === null) {
      absent[i] = 1;
      records = false;
    } else {
      // A lone surrogate has no UTF-8 (TextEncoder would write U+FFFD): Python reads these.
      if (LONE_SURROGATE.test(id)) return null;
      ids.push(id);
      idEnd += codePoints(id);
      if (seen.has(id)) records = false;
      seen.add(id);
    }
    ends[i] = idEnd;
  }
  if (at !== text.length) return null;
  const table = new Uint8Array(5 * count);
  table.set(new Uint8Array(ends.buffer), 0); // little-endian, as every browser that runs this
  table.set(absent, 4 * count);
  return {
    starts, lengths, idTable: table, idText: new TextEncoder().encode(ids.join("")), records,
    length: point,
  };
}

