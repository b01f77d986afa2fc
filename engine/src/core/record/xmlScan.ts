/**
 * A small, tolerant XML tag scanner that keeps exact source offsets, and judges well-formedness in
 * the same pass. It never throws: on broken input it still returns the best tree it can, and
 * `problems` lists what is wrong (the first one is where the document broke). It is tuned for
 * MedAlign records (2 MB in a few tens of milliseconds): text is kept as ranges and only decoded
 * where the model needs it.
 *
 * The verdict follows fast-xml-parser's `XMLValidator` (the reference the differential test
 * test/unit/xmlWellFormed.test.ts compares against on thousands of mutated records): tag and
 * attribute names (XML Name production), attribute syntax (space before each, `name="value"` or
 * `name='value'`, no duplicates), `&` references in text (`&name;` of up to 20 word characters,
 * `&#digits;`, `&#xhex;`), start/end tag matching, one root, no text outside it. It is stricter
 * than XMLValidator where that one misses a real error (see `STRICTER`), never laxer.
 */

export interface XmlAttr {
  name: string;
  /** Decoded value. */
  value: string;
  /** Offsets of the value between its quotes (raw, undecoded). */
  valueStart: number;
  valueEnd: number;
}

export interface XmlNode {
  name: string;
  /** Offset of `<`. */
  start: number;
  /** Offset just past the start tag's `>`. */
  openEnd: number;
  /** Offset of the end tag's `<` (== openEnd for a self-closing element). */
  closeStart: number;
  /** Offset just past the end tag's `>` (or the start tag's, when self-closing). */
  end: number;
  // The three arrays are read-only: a node without attributes, children or text shares one empty array.
  attrs: readonly XmlAttr[];
  children: readonly XmlNode[];
  /** Raw text ranges directly inside the element, as [start, end) pairs flattened. CDATA included. */
  text: readonly number[];
  /** CDATA ranges among `text` are marked here by their start offset (not entity-decoded). */
  cdata?: Set<number>;
  /** False when the element was never closed (broken input). */
  closed: boolean;
}

export interface XmlScan {
  /** Top-level elements, in order. */
  roots: XmlNode[];
  /** Problems the scanner itself noticed (tolerant recovery), as offsets. */
  problems: XmlProblem[];
}

export interface XmlProblem {
  start: number;
  end: number;
  message: string;
  /** A short stable code (e.g. `tag-mismatch`, `attr-duplicate`, `unclosed-comment`). */
  code: string;
}

/**
 * Problem codes for errors XMLValidator does not report in some position (it stops scanning an
 * unclosed comment, CDATA or PI silently at the end of the file; it takes `</a/>` for a
 * self-closing tag; it accepts a second root or text after a root that was self-closing, and a
 * start tag cut off by the end of the file when it ends in `/`). Real well-formedness errors all.
 */
export const STRICTER: ReadonlySet<string> = new Set([
  'unclosed-comment',
  'unclosed-cdata',
  'unclosed-pi',
  'unclosed-doctype',
  'closing-tag-slash',
  'multiple-roots',
  'text-outside-root',
  'start-tag-unterminated',
]);

const LT = 60; // <
const GT = 62; // >
const SLASH = 47; // /
const BANG = 33; // !
const QMARK = 63; // ?
const EQ = 61; // =
const DQ = 34;
const SQ = 39;

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five XML entities and numeric character references; unknown entities stay as written. */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (m, body: string) => {
    if (body.charCodeAt(0) === 35) {
      const cp =
        body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return NAMED[body] ?? m;
  });
}

/** The element's direct text, decoded (CDATA verbatim), not trimmed. */
export function nodeText(xml: string, node: XmlNode): string {
  const t = node.text;
  if (t.length === 0) return '';
  let out = '';
  for (let k = 0; k < t.length; k += 2) {
    const raw = xml.slice(t[k], t[k + 1]);
    out += node.cdata?.has(t[k]) ? raw : decodeEntities(raw);
  }
  return out;
}

// The XML Name production, as XMLValidator checks it (BMP only).
const NAME_START =
  ':A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_CHAR = NAME_START + '\\-.\\d\\u00B7\\u0300-\\u036F\\u203F-\\u2040';
// eslint-disable-next-line no-misleading-character-class -- a range of combining marks (U+0300-U+036F), as the XML Name production has it
const NAME_RE = new RegExp('^[' + NAME_START + '][' + NAME_CHAR + ']*$');

/** Whitespace as XML (and XMLValidator) means it: space, tab, LF, CR. */
function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

// Sticky regexes run by `test` (no match object is built; `lastIndex` is where they stopped): the
// character loops of the hot paths run in the regex engine's native code, even in a cold process.
/** A raw tag name: up to whitespace, `>` or the end (XMLValidator's reading). Always matches. */
const RAW_NAME = /[^> \t\n\r]*/y;
/**
 * The rest of a start tag up to its `>`, when it holds no unquoted `<` and every quote closes: the
 * common case of the quote-aware loop in `startTag` (one character per step, so it cannot backtrack
 * badly on the way to a failure).
 */
const TAG_REST = /(?:[^"'<>]|"[^"]*"|'[^']*')*>/y;
/**
 * One attribute written the plain way (`␣name="value"`, a name of ASCII name characters, which the
 * XML Name production accepts): what `readAttrs` reads without an error, taken in one step.
 */
const PLAIN_ATTR = /[ \t\n\r]+([A-Za-z_:][-\w.:]*)[ \t\n\r]*=[ \t\n\r]*(?:"([^"]*)"|'([^']*)')/y;

/** Empty arrays shared by every node that has no attributes, children or text (never pushed to). */
const NO_ATTRS: readonly XmlAttr[] = [];
const NO_NODES: readonly XmlNode[] = [];
const NO_TEXT: readonly number[] = [];

/** A node while the scanner builds it. */
interface OpenNode extends XmlNode {
  attrs: XmlAttr[];
  children: XmlNode[];
  text: number[];
}

/**
 * The scanner's state, with one method per construct (small functions that the JIT compiles early,
 * where one large function with closures was still being interpreted, then deoptimized, while it
 * scanned a 2 MB record).
 */
class Scanner {
  readonly roots: XmlNode[] = [];
  readonly problems: XmlProblem[] = [];
  private readonly stack: OpenNode[] = [];
  private readonly validNames = new Set<string>();
  /** Valid tag names seen so far, by length: a tag spelled like one of them reuses the string. */
  private readonly known: string[][] = [];
  private knownCount = 0;
  private readonly n: number;
  private readonly base: number;
  /** A tag (start, or an end tag read as self-closing) was seen: XMLValidator's "text loop" mode. */
  private seenTag = false;
  /** An element has ended at the top level: anything but whitespace, comments and PIs must stop. */
  private rootDone = false;
  /** The first `&` at or after `ampFrom` (-1: none), so text ranges find their references in one pass. */
  private amp = -1;
  private ampFrom = -1;

  constructor(private readonly xml: string) {
    this.n = xml.length;
    this.base = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  run(): XmlScan {
    const xml = this.xml;
    const n = this.n;
    let i = this.base;
    while (i < n) {
      const lt = xml.indexOf('<', i);
      if (lt < 0) {
        this.addText(i, n, false);
        break;
      }
      if (lt > i) this.addText(i, lt, false);
      const c = xml.charCodeAt(lt + 1);
      if (c === QMARK) i = this.pi(lt);
      else if (c === BANG) i = this.bang(lt);
      else {
        this.seenTag = true;
        i = c === SLASH ? this.endTag(lt) : this.startTag(lt);
      }
    }
    this.finish();
    return { roots: this.roots, problems: this.problems };
  }

  private fail(start: number, end: number, code: string, message: string): void {
    this.problems.push({ start, end: Math.max(start, Math.min(end, this.n)), code, message });
  }

  private isName(name: string): boolean {
    if (this.validNames.has(name)) return true;
    if (!NAME_RE.test(name)) return false;
    this.validNames.add(name);
    return true;
  }

  /**
   * A valid tag name seen before that is exactly `xml[from, end)`, or undefined. Such a name needs
   * no slice, trim or `/` check (names are remembered only when valid and already trimmed).
   */
  private knownName(from: number, end: number): string | undefined {
    const list = this.known[end - from];
    if (list !== undefined) {
      for (let k = 0; k < list.length; k++) if (this.xml.startsWith(list[k], from)) return list[k];
    }
    return undefined;
  }

  private remember(name: string): void {
    // (`<a\u1680/>` is the valid name `a\u1680`, but `</a\u1680>` closes `a`: only names that
    // trimming leaves alone are taken as written.)
    if (this.knownCount >= 64 || name.trim() !== name) return;
    const list = (this.known[name.length] ??= []);
    if (!list.includes(name)) {
      list.push(name);
      this.knownCount++;
    }
  }

  /** Where the raw tag name starting at `from` ends. */
  private rawNameEnd(from: number): number {
    RAW_NAME.lastIndex = from;
    RAW_NAME.test(this.xml);
    return RAW_NAME.lastIndex;
  }

  /** Processing instruction at `lt`; returns where scanning goes on. */
  private pi(lt: number): number {
    const xml = this.xml;
    // Before any tag XMLValidator reads its target and refuses `xml` anywhere but at the very
    // start; later it only looks for `?>` (from the `?` itself).
    if (!this.seenTag) {
      const t5 = xml.charCodeAt(lt + 5);
      if (lt > this.base && xml.startsWith('xml', lt + 2) && (t5 === QMARK || t5 === 32)) {
        this.fail(
          lt,
          lt + 5,
          'xml-decl',
          'The XML declaration is allowed only at the very start of the file.',
        );
      }
    }
    const e = xml.indexOf('?>', this.seenTag ? lt + 1 : lt + 2);
    if (e < 0) {
      this.fail(lt, this.n, 'unclosed-pi', 'Unclosed processing instruction (`<?` without `?>`).');
      return this.n;
    }
    return e + 2;
  }

  /** `<!`: a comment, DOCTYPE, CDATA section, or text. Returns where scanning goes on. */
  private bang(lt: number): number {
    const xml = this.xml;
    const n = this.n;
    if (n > lt + 6 && xml.charCodeAt(lt + 2) === 45 && xml.charCodeAt(lt + 3) === 45) {
      const e = xml.indexOf('-->', lt + 4);
      if (e < 0) {
        this.fail(lt, n, 'unclosed-comment', 'Unclosed comment (`<!--` without `-->`).');
        return n;
      }
      return e + 3;
    }
    if (n > lt + 9 && xml.startsWith('DOCTYPE', lt + 2)) {
      // Skipped, counting angle brackets as XMLValidator does.
      let depth = 1;
      let j = lt + 9;
      for (; j < n; j++) {
        const d = xml.charCodeAt(j);
        if (d === LT) depth++;
        else if (d === GT && --depth === 0) break;
      }
      if (j >= n) {
        this.fail(lt, n, 'unclosed-doctype', 'Unclosed <!DOCTYPE>.');
        return n;
      }
      return j + 1;
    }
    if (n > lt + 10 && xml.startsWith('[CDATA[', lt + 2)) {
      const e = xml.indexOf(']]>', lt + 9);
      if (e < 0) {
        this.fail(lt, n, 'unclosed-cdata', 'Unclosed CDATA section (`<![CDATA[` without `]]>`).');
        this.addText(lt + 9, n, true);
        return n;
      }
      this.addText(lt + 9, e, true);
      return e + 3;
    }
    // XMLValidator reads any other `<!` as text.
    this.addText(lt, lt + 2, false);
    return lt + 2;
  }

  /** Checks one `&` reference at `a` (XMLValidator's rules); returns the index of its `;` or -1. */
  private entityEnd(a: number): number {
    const xml = this.xml;
    const n = this.n;
    let k = a + 1;
    if (k >= n) return n; // a lone `&` at the very end: XMLValidator lets it pass
    let c = xml.charCodeAt(k);
    if (c === 59) return -1; // &;
    if (c === 35) {
      // &#...;  &#x...;
      k++;
      let hex = false;
      if (xml.charCodeAt(k) === 120) {
        hex = true;
        k++;
      }
      for (; k < n; k++) {
        c = xml.charCodeAt(k);
        if (c === 59) return k;
        if (!(hex ? isHex(c) : c >= 48 && c <= 57)) return -1;
      }
      return -1;
    }
    for (let count = 0; k < n; k++, count++) {
      c = xml.charCodeAt(k);
      if (isWordChar(c) && count < 20) continue;
      if (c === 59) return k;
      return -1;
    }
    return n;
  }

  /** The first `&` at or after `from` (text ranges come in document order: one pass overall). */
  private nextAmp(from: number): number {
    if (this.ampFrom < 0 || from < this.ampFrom || (this.amp >= 0 && this.amp < from)) {
      this.amp = this.xml.indexOf('&', from);
      this.ampFrom = from;
    }
    return this.amp;
  }

  private addText(s: number, e: number, cdata: boolean): void {
    if (e <= s) return;
    const xml = this.xml;
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      if (cdata) return; // CDATA outside the root: XMLValidator lets it pass, and so do we
      for (let k = s; k < e; k++) {
        if (!isWs(xml.charCodeAt(k))) {
          this.fail(
            k,
            e,
            'text-outside-root',
            this.rootDone ? 'Text after the root element.' : 'Text before the root element.',
          );
          return;
        }
      }
      return;
    }
    if (top.text === NO_TEXT) top.text = [s, e];
    else top.text.push(s, e);
    if (cdata) {
      (top.cdata ??= new Set()).add(s);
      return;
    }
    for (let a = this.nextAmp(s); a >= 0 && a < e; a = this.nextAmp(a + 1)) {
      const semi = this.entityEnd(a);
      if (semi < 0) {
        let to = a + 1;
        while (to < e && to < a + 24 && !isWs(xml.charCodeAt(to)) && xml.charCodeAt(to) !== 59) to++;
        this.fail(
          a,
          to + 1,
          'bad-entity',
          'A bare `&`: write `&amp;` (or a reference such as `&lt;` or `&#38;`).',
        );
        return;
      }
      a = semi;
    }
  }

  /**
   * Attribute syntax of the region [a, b) of a start tag, as XMLValidator reads it; fills `attrs`.
   * Returns false (after reporting) at the first error.
   */
  private readAttrs(a: number, b: number, tagName: string, attrs: XmlAttr[]): boolean {
    const xml = this.xml;
    let p = a;
    // Plain attributes in one step each; anything else (and the end of the region) goes on below.
    for (;;) {
      PLAIN_ATTR.lastIndex = p;
      const m = PLAIN_ATTR.exec(xml);
      if (m === null || PLAIN_ATTR.lastIndex > b) break;
      const name = m[1];
      let k = 0;
      while (k < attrs.length && attrs[k].name !== name) k++;
      if (k < attrs.length) break; // repeated: reported below
      const raw = m[2] ?? m[3];
      const ve = PLAIN_ATTR.lastIndex - 1;
      attrs.push({ name, value: decodeEntities(raw), valueStart: ve - raw.length, valueEnd: ve });
      p = PLAIN_ATTR.lastIndex;
    }
    while (p < b) {
      const tokStart = p;
      while (p < b && isWs(xml.charCodeAt(p))) p++;
      if (p >= b) break;
      if (xml.charCodeAt(p) === EQ) {
        p++;
        continue;
      }
      const spaced = p > tokStart;
      const nameStart = p;
      while (p < b) {
        const c = xml.charCodeAt(p);
        if (isWs(c) || c === EQ) break;
        p++;
      }
      const name = xml.slice(nameStart, p);
      let j = p;
      while (j < b && isWs(xml.charCodeAt(j))) j++;
      let hasEq = false;
      if (j < b && xml.charCodeAt(j) === EQ) {
        hasEq = true;
        p = j + 1;
      }
      let k = p;
      while (k < b && isWs(xml.charCodeAt(k))) k++;
      let vs = -1;
      let ve = -1;
      const q = xml.charCodeAt(k);
      if (k < b && (q === DQ || q === SQ)) {
        const close = xml.indexOf(q === DQ ? '"' : "'", k + 1);
        if (close >= 0 && close < b) {
          vs = k + 1;
          ve = close;
          p = close + 1;
        }
      }
      if (!spaced) {
        this.fail(nameStart, p, 'attr-space', `Attribute '${name}' of <${tagName}> needs a space before it.`);
        return false;
      }
      if (hasEq && vs < 0) {
        this.fail(nameStart, p, 'attr-value', `Attribute '${name}' of <${tagName}> has no quoted value.`);
        return false;
      }
      if (!hasEq) {
        this.fail(
          nameStart,
          p,
          'attr-boolean',
          `Attribute '${name}' of <${tagName}> has no value (write ${name}="...").`,
        );
        return false;
      }
      if (!this.isName(name)) {
        this.fail(nameStart, p, 'attr-name', `'${name}' is not a valid attribute name.`);
        return false;
      }
      for (const other of attrs) {
        if (other.name === name) {
          this.fail(nameStart, p, 'attr-duplicate', `Attribute '${name}' is repeated on <${tagName}>.`);
          return false;
        }
      }
      attrs.push({ name, value: decodeEntities(xml.slice(vs, ve)), valueStart: vs, valueEnd: ve });
    }
    return true;
  }

  /** End tag at `lt`; returns where scanning goes on. */
  private endTag(lt: number): number {
    const xml = this.xml;
    const n = this.n;
    const stack = this.stack;
    // A name, optional whitespace, `>`. XMLValidator reads what follows the name up to the first
    // `>` outside quotes; if that ends in `/` it takes the whole tag as self-closing.
    const ne = this.rawNameEnd(lt + 2);
    let rs = ne;
    let name = this.knownName(lt + 2, ne);
    if (name === undefined) {
      name = xml.slice(lt + 2, ne).trim();
      if (name.charCodeAt(name.length - 1) === SLASH) {
        name = name.slice(0, -1);
        rs = ne - 1;
      }
    }
    const gt = xml.indexOf('>', ne);
    const tagEnd = gt < 0 ? n : gt + 1;
    const top = stack[stack.length - 1];
    const before = this.problems.length;
    if (rs !== gt) {
      // Anything between the name and `>` (or no `>`): an error; which one, as XMLValidator sees it.
      let j = rs;
      let quote = 0;
      for (; j < n; j++) {
        const d = xml.charCodeAt(j);
        if (d === DQ || d === SQ) {
          if (quote === 0) quote = d;
          else if (quote === d) quote = 0;
        } else if (d === GT && quote === 0) break;
      }
      if (!this.isName(name)) {
        this.fail(
          lt,
          ne,
          'tag-name',
          name === '' ? 'A `</` without a tag name.' : `'${name}' is not a valid tag name.`,
        );
      } else if (quote !== 0) {
        this.fail(lt, n, 'attr-quote', `End tag </${name}> opens a quote that is never closed.`);
      } else if (j > rs && xml.charCodeAt(j - 1) === SLASH) {
        this.fail(lt, tagEnd, 'closing-tag-slash', `End tag </${name}> cannot end with \`/>\`.`);
      } else if (j >= n) {
        this.fail(lt, n, 'end-tag-unterminated', `End tag </${name}> is not terminated by \`>\`.`);
      } else if (xml.slice(rs, j).trim() !== '') {
        this.fail(lt, j + 1, 'end-tag-attrs', `End tag </${name}> cannot have attributes.`);
      }
    }
    if (this.problems.length > before) {
      // reported above
    } else if (!this.isName(name)) {
      this.fail(
        lt,
        ne,
        'tag-name',
        name === '' ? 'A `</` without a tag name.' : `'${name}' is not a valid tag name.`,
      );
    } else if (top === undefined) {
      this.fail(lt, tagEnd, 'end-tag-unopened', `End tag </${name}> has no matching start tag.`);
    } else if (top.name !== name) {
      this.fail(
        lt,
        tagEnd,
        'tag-mismatch',
        `Expected </${top.name}> (to close <${top.name}>) instead of </${name}>.`,
      );
    }
    // Tolerant tree: close the nearest open element of that name (and what is open inside it).
    let k = stack.length - 1;
    while (k >= 0 && stack[k].name !== name) k--;
    if (k >= 0) {
      while (stack.length - 1 > k) {
        const open = stack.pop()!;
        open.closeStart = lt;
        open.end = lt;
      }
      const node = stack.pop()!;
      node.closeStart = lt;
      node.end = tagEnd;
      node.closed = true;
      if (stack.length === 0) this.rootDone = true;
    }
    return tagEnd;
  }

  /** Start tag (or a `<` that is not one) at `lt`; returns where scanning goes on. */
  private startTag(lt: number): number {
    const xml = this.xml;
    const n = this.n;
    const stack = this.stack;
    const ne = this.rawNameEnd(lt + 1);
    let regionStart = ne;
    let name = this.knownName(lt + 1, ne);
    if (name === undefined) {
      name = xml.slice(lt + 1, ne).trim();
      if (name.charCodeAt(name.length - 1) === SLASH) {
        name = name.slice(0, -1);
        regionStart = ne - 1;
      }
    }
    // The tag ends at the first `>` outside quotes (XMLValidator's reading); an unquoted `<` on
    // the way means it was cut short (an error either way), and the tree resumes there.
    let j: number;
    let quote = 0;
    let strayLt = -1;
    TAG_REST.lastIndex = regionStart;
    if (TAG_REST.test(xml)) j = TAG_REST.lastIndex - 1;
    else {
      for (j = regionStart; j < n; j++) {
        const d = xml.charCodeAt(j);
        if (d === DQ || d === SQ) {
          if (quote === 0) quote = d;
          else if (quote === d) quote = 0;
        } else if (quote === 0) {
          if (d === GT) break;
          if (d === LT && strayLt < 0) strayLt = j;
        }
      }
    }
    const closedTag = j < n;
    const selfClosing = j > regionStart && xml.charCodeAt(j - 1) === SLASH;
    const attrEnd = selfClosing ? j - 1 : j;
    const attrs: XmlAttr[] = attrEnd > regionStart ? [] : (NO_ATTRS as XmlAttr[]);
    const before = this.problems.length;
    if (!this.isName(name)) {
      this.fail(
        lt,
        Math.max(ne, lt + 1),
        'tag-name',
        name === ''
          ? 'A `<` that does not start a tag (write `&lt;`).'
          : `'${name}' is not a valid tag name.`,
      );
    } else if (quote !== 0) {
      this.fail(lt, n, 'attr-quote', `An attribute of <${name}> opens a quote that is never closed.`);
    } else if (attrs === NO_ATTRS || this.readAttrs(regionStart, attrEnd, name, attrs)) {
      if (!closedTag) {
        this.fail(lt, n, 'start-tag-unterminated', `Start tag <${name}> is not terminated by \`>\`.`);
      } else if (stack.length === 0 && this.rootDone) {
        this.fail(lt, j + 1, 'multiple-roots', `A second root element <${name}>: a record has one root.`);
      }
    }
    let tagEnd = closedTag ? j + 1 : n;
    let selfClose = selfClosing && closedTag;
    const failed = this.problems.length > before;
    if (failed && strayLt >= 0) {
      // Read on from the `<` that cut the tag short.
      tagEnd = strayLt;
      selfClose = false;
    }
    if (failed && this.problems[before].code === 'tag-name' && !/^[A-Za-z_:]/.test(name)) {
      // Not a tag at all (`< `, `<=`, `<1`…): read on as text.
      this.addText(lt, lt + 1, false);
      return lt + 1;
    }
    if (!failed) this.remember(name);
    const node: OpenNode = {
      name,
      start: lt,
      openEnd: tagEnd,
      closeStart: tagEnd,
      end: tagEnd,
      attrs,
      children: NO_NODES as XmlNode[],
      text: NO_TEXT as number[],
      closed: selfClose,
    };
    const parent = stack[stack.length - 1];
    if (parent === undefined) this.roots.push(node);
    else if (parent.children === NO_NODES) parent.children = [node];
    else parent.children.push(node);
    if (!selfClose) stack.push(node);
    else if (stack.length === 0) this.rootDone = true;
    return tagEnd;
  }

  /** At the end of the text: report what is still open (and close it there), or a missing root. */
  private finish(): void {
    const stack = this.stack;
    const n = this.n;
    if (stack.length > 0) {
      const open = stack[stack.length - 1];
      this.fail(
        open.start,
        open.openEnd,
        'unclosed-tag',
        stack.length === 1
          ? `<${open.name}> is not closed.`
          : `<${open.name}> is not closed (nor ${stack
              .slice(0, -1)
              .reverse()
              .map((x) => `<${x.name}>`)
              .join(', ')} around it).`,
      );
      for (const node of stack) {
        node.closeStart = n;
        node.end = n;
      }
    } else if (this.roots.length === 0 && this.problems.length === 0) {
      this.fail(0, n, 'no-root', 'No root element.');
    }
  }
}

export function scanXml(xml: string): XmlScan {
  return new Scanner(xml).run();
}

export function attr(node: XmlNode, name: string): XmlAttr | undefined {
  for (const a of node.attrs) if (a.name === name) return a;
  return undefined;
}
