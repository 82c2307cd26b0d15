// Where the elements of a module's text are, found by reading the text once, without building
// its values (tiling.mjs): an array whose text is, element by element, exactly what
// JSON.stringify writes for the element JSON.parse reads there. It answers what JSON.parse and a
// JSON.stringify of each element would (tests/unit/browser/js/tile_by_json.mjs, the tiler it
// replaced, is the reference that tests/unit/browser/test_canonical_scan.py compares it with on
// random and on broken texts), at a fraction of the cost on a large hotel: no value is built,
// and so nothing is collected afterwards.
//
// What JSON.stringify writes, and so what is accepted here (anything else: null):
// - no space outside strings;
// - strings with only these escapes: \" \\ \b \f \n \r \t, \u00xx (lowercase) for the other
//   control characters, \udxxx (lowercase) for a surrogate that is not half of a pair; every
//   other character as it is (a control character as it is is not JSON at all);
// - numbers as Number.prototype.toString spells them (1e+21, 1.5e-7; not 1.0, 1E5, -0, 1e400);
// - objects without a repeated key, whose keys that are array indexes ("0" to "4294967294")
//   come first, in ascending order (JSON.parse puts them there).

// Past this depth (counting the module's own brackets), null: such a module is left to Python,
// which reads it (or refuses it) as it reads any other.
export const MAX_DEPTH = 100;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

class NotCanonical extends Error {}
const NOT = new NotCanonical();

function isHex(unit) { // lowercase only: JSON.stringify writes \u001f, not \u001F
  return (unit >= 0x30 && unit <= 0x39) || (unit >= 0x61 && unit <= 0x66);
}

// The scanner over one text: `at` is the position (UTF-16 units), `pairs` how many surrogate
// pairs were passed (code points = units - pairs).
class Scanner {
  constructor(text) {
    this.text = text;
    this.at = 0;
    this.pairs = 0;
    this.escaped = false; // whether the last string read had an escape
  }

  // A string from the opening quote at `at`; returns where its text ends (after the quote).
  string() {
    const text = this.text;
    let i = this.at + 1;
    const n = text.length;
    this.escaped = false;
    for (;;) {
      if (i >= n) throw NOT;
      const unit = text.charCodeAt(i);
      if (unit === QUOTE) break;
      if (unit < 0x20) throw NOT;
      if (unit === BACKSLASH) {
        this.escaped = true;
        const next = text.charCodeAt(i + 1);
        if (next === 0x75) { // \uXXXX
          for (let k = 2; k < 6; k++) if (!isHex(text.charCodeAt(i + k))) throw NOT;
          const code = parseInt(text.slice(i + 2, i + 6), 16);
          if (code >= 0xd800 && code <= 0xdbff) {
            // A high surrogate is escaped only when no low one follows it.
            if (text.charCodeAt(i + 6) === BACKSLASH && text.charCodeAt(i + 7) === 0x75) {
              const after = parseInt(text.slice(i + 8, i + 12), 16);
              if (after >= 0xdc00 && after <= 0xdfff) throw NOT;
            }
          } else if (code >= 0xdc00 && code <= 0xdfff) {
            // A low one alone: the text cannot hold a high one right before it (its decoder
            // gives no lone surrogate, and an escaped high one followed by it was refused).
          } else if (code >= 0x20 || code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c
            || code === 0x0d) {
            throw NOT; // written as itself, or as \b \t \n \f \r
          }
          i += 6;
        } else if (next === QUOTE || next === BACKSLASH || next === 0x62 || next === 0x66
          || next === 0x6e || next === 0x72 || next === 0x74) {
          i += 2;
        } else {
          throw NOT; // \/ and anything else
        }
        continue;
      }
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const low = text.charCodeAt(i + 1);
        if (!(low >= 0xdc00 && low <= 0xdfff)) throw NOT; // not from a decoder: refused
        this.pairs++;
        i += 2;
        continue;
      }
      if (unit >= 0xdc00 && unit <= 0xdfff) throw NOT;
      i++;
    }
    return i + 1;
  }

  // The value of the string token text[start, end) (quotes included), the last one read.
  stringValue(start, end) {
    return this.escaped ? JSON.parse(this.text.slice(start, end)) : this.text.slice(start + 1, end - 1);
  }

  number() {
    const text = this.text;
    const start = this.at;
    let i = start;
    let simple = true; // an integer of at most 15 digits without a leading zero: as written
    if (text.charCodeAt(i) === 0x2d) i++;
    const first = i;
    for (;;) {
      const unit = text.charCodeAt(i);
      if (unit >= 0x30 && unit <= 0x39) { i++; continue; }
      if (unit === 0x2e || unit === 0x65 || unit === 0x45 || unit === 0x2b || unit === 0x2d) {
        simple = false;
        i++;
        continue;
      }
      break;
    }
    const digits = i - first;
    if (digits === 0) throw NOT;
    if (simple && digits <= 15) { // below 2^53: written back as it is, but for leading zeros
      if (text.charCodeAt(first) !== 0x30) return i;
      if (digits === 1 && first === start) return i; // 0 (not -0, not 01)
      throw NOT;
    }
    const token = text.slice(start, i);
    if (String(Number(token)) !== token) throw NOT;
    return i;
  }

  literal(word) {
    if (!this.text.startsWith(word, this.at)) throw NOT;
    return this.at + word.length;
  }

  // One value at `at`, `depth` brackets deep around it; returns where it ends.
  value(depth) {
    const unit = this.text.charCodeAt(this.at);
    if (unit === QUOTE) return this.string();
    if (unit === OPEN_OBJECT) return this.object(depth + 1, null);
    if (unit === OPEN_ARRAY) return this.array(depth + 1);
    if (unit === 0x74) return this.literal("true");
    if (unit === 0x66) return this.literal("false");
    if (unit === 0x6e) return this.literal("null");
    return this.number();
  }

  array(depth) {
    if (depth > MAX_DEPTH) throw NOT;
    const text = this.text;
    this.at++;
    if (text.charCodeAt(this.at) === CLOSE_ARRAY) return this.at + 1;
    for (;;) {
      this.at = this.value(depth);
      const unit = text.charCodeAt(this.at);
      if (unit === CLOSE_ARRAY) return this.at + 1;
      if (unit !== COMMA) throw NOT;
      this.at++;
    }
  }

  // An object; `found` (for an element) gets its "id" when that is a string.
  object(depth, found) {
    if (depth > MAX_DEPTH) throw NOT;
    const text = this.text;
    this.at++;
    if (text.charCodeAt(this.at) === CLOSE_OBJECT) return this.at + 1;
    // The keys seen, as their tokens: a value has one canonical spelling, so two keys are the
    // same exactly when their tokens are. A hash of each token spares comparing most of them.
    const hashes = [];
    const tokens = []; // where each token starts (and, at the same place in `ends`, ends)
    const ends = [];
    let seen = null; // a large object's tokens, as strings
    let named = false; // a key that is not an array index was seen
    let lastIndex = -1;
    for (;;) {
      if (text.charCodeAt(this.at) !== QUOTE) throw NOT;
      const keyStart = this.at;
      const keyEnd = this.string();
      const first = text.charCodeAt(keyStart + 1);
      if (first >= 0x30 && first <= 0x39 && !this.escaped) {
        const index = arrayIndex(text.slice(keyStart + 1, keyEnd - 1));
        if (index < 0) {
          named = true;
        } else {
          if (named || index <= lastIndex) throw NOT; // JSON.parse puts indexes first, ascending
          lastIndex = index;
        }
      } else {
        named = true;
      }
      if (seen !== null) {
        const token = text.slice(keyStart, keyEnd);
        if (seen.has(token)) throw NOT;
        seen.add(token);
      } else {
        let hash = 0;
        for (let i = keyStart + 1; i < keyEnd - 1; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
        for (let k = 0; k < hashes.length; k++) {
          if (hashes[k] === hash && sameText(text, tokens[k], ends[k], keyStart, keyEnd)) throw NOT;
        }
        hashes.push(hash);
        tokens.push(keyStart);
        ends.push(keyEnd);
        if (hashes.length === 32) { // a large object: no quadratic search
          seen = new Set(tokens.map((start, k) => text.slice(start, ends[k])));
        }
      }
      if (text.charCodeAt(keyEnd) !== COLON) throw NOT;
      this.at = keyEnd + 1;
      const valueStart = this.at;
      this.at = this.value(depth);
      if (found !== null && keyEnd - keyStart === 4 && first === 0x69 && text.charCodeAt(keyStart + 2) === 0x64
        && text.charCodeAt(valueStart) === QUOTE) {
        found.id = this.stringValue(valueStart, this.at); // "id": a string
      }
      const unit = text.charCodeAt(this.at);
      if (unit === CLOSE_OBJECT) return this.at + 1;
      if (unit !== COMMA) throw NOT;
      this.at++;
    }
  }
}

// Whether text[a, aEnd) and text[b, bEnd) are the same.
function sameText(text, a, aEnd, b, bEnd) {
  if (aEnd - a !== bEnd - b) return false;
  for (let i = 0; i < aEnd - a; i++) if (text.charCodeAt(a + i) !== text.charCodeAt(b + i)) return false;
  return true;
}

// The array index a key names (its canonical decimal spelling, below 2^32 - 1), or -1.
function arrayIndex(key) {
  const n = key.length;
  if (n === 0 || n > 10) return -1;
  const first = key.charCodeAt(0);
  if (first < 0x30 || first > 0x39 || (first === 0x30 && n > 1)) return -1;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const unit = key.charCodeAt(i);
    if (unit < 0x30 || unit > 0x39) return -1;
    value = value * 10 + (unit - 0x30);
  }
  return value < 4294967295 ? value : -1;
}

// For each element of the array `text`: where it starts and how long it is (in code points),
// its "id" when it is an object with a string "id" (else null); or null when the text is not
// an array of canonical elements (or is nested deeper than MAX_DEPTH).
export function scanElements(text) {
  if (text.charCodeAt(0) !== OPEN_ARRAY || text.charCodeAt(text.length - 1) !== CLOSE_ARRAY) return null;
  const scanner = new Scanner(text);
  const starts = [];
  const lengths = [];
  const ids = [];
  try {
    scanner.at = 1;
    if (text.length === 2) return { starts, lengths, ids, length: 2 };
    const found = { id: null };
    for (;;) {
      const start = scanner.at;
      const startPoint = start - scanner.pairs;
      found.id = null;
      scanner.at = text.charCodeAt(start) === OPEN_OBJECT ? scanner.object(2, found) : scanner.value(1);
      starts.push(startPoint);
      lengths.push(scanner.at - scanner.pairs - startPoint);
      ids.push(found.id);
      const unit = text.charCodeAt(scanner.at);
      scanner.at++;
      if (unit === CLOSE_ARRAY) break;
      if (unit !== COMMA) return null;
    }
    if (scanner.at !== text.length) return null;
    return { starts, lengths, ids, length: text.length - scanner.pairs };
  } catch (error) {
    if (error === NOT) return null;
    throw error;
  }
}
