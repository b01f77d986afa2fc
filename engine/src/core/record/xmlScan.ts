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
  attrs: XmlAttr[];
  children: XmlNode[];
  /** Raw text ranges directly inside the element, as [start, end) pairs flattened. CDATA included. */
  text: number[];
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

export function scanXml(xml: string): XmlScan {
  const n = xml.length;
  const roots: XmlNode[] = [];
  const problems: XmlProblem[] = [];
  const stack: XmlNode[] = [];
  const validNames = new Set<string>();
  const base = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  let i = base;
  /** A tag (start, or an end tag read as self-closing) was seen: XMLValidator's "text loop" mode. */
  let seenTag = false;
  /** An element has ended at the top level: anything but whitespace, comments and PIs must stop. */
  let rootDone = false;

  const fail = (start: number, end: number, code: string, message: string): void => {
    problems.push({ start, end: Math.max(start, Math.min(end, n)), code, message });
  };

  const isName = (name: string): boolean => {
    if (validNames.has(name)) return true;
    if (!NAME_RE.test(name)) return false;
    validNames.add(name);
    return true;
  };

  /** Checks one `&` reference at `a` (XMLValidator's rules); returns the index of its `;` or -1. */
  const entityEnd = (a: number): number => {
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
  };

  const addText = (s: number, e: number, cdata: boolean): void => {
    if (e <= s) return;
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (cdata) return; // CDATA outside the root: XMLValidator lets it pass, and so do we
      for (let k = s; k < e; k++) {
        if (!isWs(xml.charCodeAt(k))) {
          fail(
            k,
            e,
            'text-outside-root',
            rootDone ? 'Text after the root element.' : 'Text before the root element.',
          );
          return;
        }
      }
      return;
    }
    top.text.push(s, e);
    if (cdata) {
      (top.cdata ??= new Set()).add(s);
      return;
    }
    for (let a = xml.indexOf('&', s); a >= 0 && a < e; a = xml.indexOf('&', a + 1)) {
      const semi = entityEnd(a);
      if (semi < 0) {
        let to = a + 1;
        while (to < e && to < a + 24 && !isWs(xml.charCodeAt(to)) && xml.charCodeAt(to) !== 59) to++;
        fail(
          a,
          to + 1,
          'bad-entity',
          'A bare `&`: write `&amp;` (or a reference such as `&lt;` or `&#38;`).',
        );
        return;
      }
      a = semi;
    }
  };

  /**
   * Attribute syntax of the region [a, b) of a start tag, as XMLValidator reads it; fills `attrs`.
   * Returns false (after reporting) at the first error.
   */
  const readAttrs = (a: number, b: number, tagName: string, attrs: XmlAttr[]): boolean => {
    let p = a;
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
        fail(nameStart, p, 'attr-space', `Attribute '${name}' of <${tagName}> needs a space before it.`);
        return false;
      }
      if (hasEq && vs < 0) {
        fail(nameStart, p, 'attr-value', `Attribute '${name}' of <${tagName}> has no quoted value.`);
        return false;
      }
      if (!hasEq) {
        fail(
          nameStart,
          p,
          'attr-boolean',
          `Attribute '${name}' of <${tagName}> has no value (write ${name}="...").`,
        );
        return false;
      }
      if (!isName(name)) {
        fail(nameStart, p, 'attr-name', `'${name}' is not a valid attribute name.`);
        return false;
      }
      for (const other of attrs) {
        if (other.name === name) {
          fail(nameStart, p, 'attr-duplicate', `Attribute '${name}' is repeated on <${tagName}>.`);
          return false;
        }
      }
      attrs.push({ name, value: decodeEntities(xml.slice(vs, ve)), valueStart: vs, valueEnd: ve });
    }
    return true;
  };

  /** Raw tag name from `from`: up to whitespace, `>` or the end (XMLValidator's reading). */
  const rawNameEnd = (from: number): number => {
    let j = from;
    while (j < n) {
      const c = xml.charCodeAt(j);
      if (c === GT || isWs(c)) break;
      j++;
    }
    return j;
  };

  while (i < n) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      addText(i, n, false);
      break;
    }
    if (lt > i) addText(i, lt, false);
    const c = xml.charCodeAt(lt + 1);
    if (c === QMARK) {
      // Processing instruction. Before any tag XMLValidator reads its target and refuses `xml`
      // anywhere but at the very start; later it only looks for `?>` (from the `?` itself).
      if (!seenTag) {
        const t5 = xml.charCodeAt(lt + 5);
        if (lt > base && xml.startsWith('xml', lt + 2) && (t5 === QMARK || t5 === 32)) {
          fail(lt, lt + 5, 'xml-decl', 'The XML declaration is allowed only at the very start of the file.');
        }
      }
      const e = xml.indexOf('?>', seenTag ? lt + 1 : lt + 2);
      if (e < 0) {
        fail(lt, n, 'unclosed-pi', 'Unclosed processing instruction (`<?` without `?>`).');
        break;
      }
      i = e + 2;
      continue;
    }
    if (c === BANG) {
      if (n > lt + 6 && xml.charCodeAt(lt + 2) === 45 && xml.charCodeAt(lt + 3) === 45) {
        const e = xml.indexOf('-->', lt + 4);
        if (e < 0) {
          fail(lt, n, 'unclosed-comment', 'Unclosed comment (`<!--` without `-->`).');
          break;
        }
        i = e + 3;
      } else if (n > lt + 9 && xml.startsWith('DOCTYPE', lt + 2)) {
        // Skipped, counting angle brackets as XMLValidator does.
        let depth = 1;
        let j = lt + 9;
        for (; j < n; j++) {
          const d = xml.charCodeAt(j);
          if (d === LT) depth++;
          else if (d === GT && --depth === 0) break;
        }
        if (j >= n) {
          fail(lt, n, 'unclosed-doctype', 'Unclosed <!DOCTYPE>.');
          break;
        }
        i = j + 1;
      } else if (n > lt + 10 && xml.startsWith('[CDATA[', lt + 2)) {
        const e = xml.indexOf(']]>', lt + 9);
        if (e < 0) {
          fail(lt, n, 'unclosed-cdata', 'Unclosed CDATA section (`<![CDATA[` without `]]>`).');
          addText(lt + 9, n, true);
          break;
        }
        addText(lt + 9, e, true);
        i = e + 3;
      } else {
        // XMLValidator reads any other `<!` as text.
        addText(lt, lt + 2, false);
        i = lt + 2;
      }
      continue;
    }
    seenTag = true;
    if (c === SLASH) {
      // End tag: a name, optional whitespace, `>`. XMLValidator reads what follows the name up to
      // the first `>` outside quotes; if that ends in `/` it takes the whole tag as self-closing.
      const ne = rawNameEnd(lt + 2);
      let name = xml.slice(lt + 2, ne).trim();
      let rs = ne;
      if (name.charCodeAt(name.length - 1) === SLASH) {
        name = name.slice(0, -1);
        rs = ne - 1;
      }
      const gt = xml.indexOf('>', ne);
      const tagEnd = gt < 0 ? n : gt + 1;
      const top = stack[stack.length - 1];
      const before = problems.length;
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
        if (!isName(name)) {
          fail(
            lt,
            ne,
            'tag-name',
            name === '' ? 'A `</` without a tag name.' : `'${name}' is not a valid tag name.`,
          );
        } else if (quote !== 0) {
          fail(lt, n, 'attr-quote', `End tag </${name}> opens a quote that is never closed.`);
        } else if (j > rs && xml.charCodeAt(j - 1) === SLASH) {
          fail(lt, tagEnd, 'closing-tag-slash', `End tag </${name}> cannot end with \`/>\`.`);
        } else if (j >= n) {
          fail(lt, n, 'end-tag-unterminated', `End tag </${name}> is not terminated by \`>\`.`);
        } else if (xml.slice(rs, j).trim() !== '') {
          fail(lt, j + 1, 'end-tag-attrs', `End tag </${name}> cannot have attributes.`);
        }
      }
      if (problems.length > before) {
        // reported above
      } else if (!isName(name)) {
        fail(
          lt,
          ne,
          'tag-name',
          name === '' ? 'A `</` without a tag name.' : `'${name}' is not a valid tag name.`,
        );
      } else if (top === undefined) {
        fail(lt, tagEnd, 'end-tag-unopened', `End tag </${name}> has no matching start tag.`);
      } else if (top.name !== name) {
        fail(
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
        if (stack.length === 0) rootDone = true;
      }
      i = tagEnd;
      continue;
    }
    // Start tag.
    const ne = rawNameEnd(lt + 1);
    let name = xml.slice(lt + 1, ne).trim();
    let regionStart = ne;
    if (name.charCodeAt(name.length - 1) === SLASH) {
      name = name.slice(0, -1);
      regionStart = ne - 1;
    }
    // The tag ends at the first `>` outside quotes (XMLValidator's reading); an unquoted `<` on
    // the way means it was cut short (an error either way), and the tree resumes there.
    let j = regionStart;
    let quote = 0;
    let strayLt = -1;
    for (; j < n; j++) {
      const d = xml.charCodeAt(j);
      if (d === DQ || d === SQ) {
        if (quote === 0) quote = d;
        else if (quote === d) quote = 0;
      } else if (quote === 0) {
        if (d === GT) break;
        if (d === LT && strayLt < 0) strayLt = j;
      }
    }
    const closedTag = j < n;
    const selfClosing = j > regionStart && xml.charCodeAt(j - 1) === SLASH;
    const attrEnd = selfClosing ? j - 1 : j;
    const attrs: XmlAttr[] = [];
    const before = problems.length;
    if (!isName(name)) {
      fail(
        lt,
        Math.max(ne, lt + 1),
        'tag-name',
        name === ''
          ? 'A `<` that does not start a tag (write `&lt;`).'
          : `'${name}' is not a valid tag name.`,
      );
    } else if (quote !== 0) {
      fail(lt, n, 'attr-quote', `An attribute of <${name}> opens a quote that is never closed.`);
    } else if (readAttrs(regionStart, attrEnd, name, attrs)) {
      if (!closedTag) {
        fail(lt, n, 'start-tag-unterminated', `Start tag <${name}> is not terminated by \`>\`.`);
      } else if (stack.length === 0 && rootDone) {
        fail(lt, j + 1, 'multiple-roots', `A second root element <${name}>: a record has one root.`);
      }
    }
    let tagEnd = closedTag ? j + 1 : n;
    let selfClose = selfClosing && closedTag;
    if (problems.length > before && strayLt >= 0) {
      // Read on from the `<` that cut the tag short.
      tagEnd = strayLt;
      selfClose = false;
    }
    if (problems.length > before && problems[before].code === 'tag-name' && !/^[A-Za-z_:]/.test(name)) {
      // Not a tag at all (`< `, `<=`, `<1`…): read on as text.
      addText(lt, lt + 1, false);
      i = lt + 1;
      continue;
    }
    const node: XmlNode = {
      name,
      start: lt,
      openEnd: tagEnd,
      closeStart: tagEnd,
      end: tagEnd,
      attrs,
      children: [],
      text: [],
      closed: selfClose,
    };
    const parent = stack[stack.length - 1];
    if (parent !== undefined) parent.children.push(node);
    else roots.push(node);
    if (!selfClose) stack.push(node);
    else if (stack.length === 0) rootDone = true;
    i = tagEnd;
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    fail(
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
  } else if (roots.length === 0 && problems.length === 0) {
    fail(0, n, 'no-root', 'No root element.');
  }
  return { roots, problems };
}

export function attr(node: XmlNode, name: string): XmlAttr | undefined {
  for (const a of node.attrs) if (a.name === name) return a;
  return undefined;
}
