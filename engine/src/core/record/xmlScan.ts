/**
 * A small, tolerant XML tag scanner that keeps exact source offsets. It never throws: on broken
 * input it still returns the best tree it can (well-formedness itself is judged by
 * fast-xml-parser's validator in ./parse.ts). It is tuned for MedAlign records (2 MB in a few
 * tens of milliseconds): text is kept as ranges and only decoded where the model needs it.
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
  problems: { start: number; end: number; message: string }[];
}

const LT = 60; // <
const GT = 62; // >
const SLASH = 47; // /
const BANG = 33; // !
const QMARK = 63; // ?
const EQ = 61; // =
const DQ = 34;
const SQ = 39;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function isNameEnd(c: number): boolean {
  return isSpace(c) || c === GT || c === SLASH || c === EQ || Number.isNaN(c);
}

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

export function scanXml(xml: string): XmlScan {
  const n = xml.length;
  const roots: XmlNode[] = [];
  const problems: XmlScan['problems'] = [];
  const stack: XmlNode[] = [];
  let i = 0;

  const addText = (s: number, e: number, cdata: boolean): void => {
    if (e <= s) return;
    const top = stack[stack.length - 1];
    if (top === undefined) return; // text outside the root: judged by the validator
    top.text.push(s, e);
    if (cdata) (top.cdata ??= new Set()).add(s);
  };

  while (i < n) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      addText(i, n, false);
      break;
    }
    if (lt > i) addText(i, lt, false);
    const c = xml.charCodeAt(lt + 1);
    if (c === BANG) {
      if (xml.startsWith('<!--', lt)) {
        const e = xml.indexOf('-->', lt + 4);
        if (e < 0) {
          problems.push({ start: lt, end: n, message: 'Unclosed comment.' });
          break;
        }
        i = e + 3;
      } else if (xml.startsWith('<![CDATA[', lt)) {
        const e = xml.indexOf(']]>', lt + 9);
        if (e < 0) {
          problems.push({ start: lt, end: n, message: 'Unclosed CDATA section.' });
          addText(lt + 9, n, true);
          break;
        }
        addText(lt + 9, e, true);
        i = e + 3;
      } else {
        // <!DOCTYPE ...> possibly with an internal subset [...]
        let j = lt + 2;
        let depth = 0;
        while (j < n) {
          const d = xml.charCodeAt(j);
          if (d === 91) depth++;
          else if (d === 93) depth--;
          else if (d === GT && depth <= 0) break;
          j++;
        }
        i = j + 1;
      }
      continue;
    }
    if (c === QMARK) {
      const e = xml.indexOf('?>', lt + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === SLASH) {
      const gt = xml.indexOf('>', lt + 2);
      const tagEnd = gt < 0 ? n : gt + 1;
      const name = xml.slice(lt + 2, gt < 0 ? n : gt).trim();
      // Find the matching open element (tolerant: unclosed children are closed implicitly).
      let k = stack.length - 1;
      while (k >= 0 && stack[k].name !== name) k--;
      if (k < 0) {
        problems.push({
          start: lt,
          end: tagEnd,
          message: `Closing tag </${name}> has no matching start tag.`,
        });
      } else {
        while (stack.length - 1 > k) {
          const open = stack.pop()!;
          open.closeStart = lt;
          open.end = lt;
          problems.push({ start: open.start, end: open.openEnd, message: `<${open.name}> is not closed.` });
        }
        const node = stack.pop()!;
        node.closeStart = lt;
        node.end = tagEnd;
        node.closed = true;
      }
      i = tagEnd;
      continue;
    }
    // Start tag.
    let j = lt + 1;
    while (j < n && !isNameEnd(xml.charCodeAt(j))) j++;
    const name = xml.slice(lt + 1, j);
    if (name.length === 0) {
      problems.push({ start: lt, end: lt + 1, message: 'A `<` that does not start a tag.' });
      addText(lt, lt + 1, false);
      i = lt + 1;
      continue;
    }
    const attrs: XmlAttr[] = [];
    let selfClosing = false;
    let tagEnd = n;
    while (j < n) {
      let d = xml.charCodeAt(j);
      if (isSpace(d)) {
        j++;
        continue;
      }
      if (d === GT) {
        tagEnd = j + 1;
        break;
      }
      if (d === SLASH && xml.charCodeAt(j + 1) === GT) {
        selfClosing = true;
        tagEnd = j + 2;
        break;
      }
      if (d === LT) {
        // A new tag starts before this one ended: broken input.
        tagEnd = j;
        problems.push({ start: lt, end: j, message: `Start tag <${name}> is not terminated.` });
        break;
      }
      const an = j;
      while (j < n && !isNameEnd(xml.charCodeAt(j)) && xml.charCodeAt(j) !== LT) j++;
      if (j === an) {
        j++;
        continue;
      }
      const attrName = xml.slice(an, j);
      while (j < n && isSpace(xml.charCodeAt(j))) j++;
      if (xml.charCodeAt(j) !== EQ) {
        attrs.push({ name: attrName, value: '', valueStart: j, valueEnd: j });
        continue;
      }
      j++;
      while (j < n && isSpace(xml.charCodeAt(j))) j++;
      d = xml.charCodeAt(j);
      if (d === DQ || d === SQ) {
        const close = xml.indexOf(d === DQ ? '"' : "'", j + 1);
        const ve = close < 0 ? n : close;
        attrs.push({
          name: attrName,
          value: decodeEntities(xml.slice(j + 1, ve)),
          valueStart: j + 1,
          valueEnd: ve,
        });
        j = ve + 1;
      } else {
        const vs = j;
        while (j < n && !isSpace(xml.charCodeAt(j)) && xml.charCodeAt(j) !== GT) j++;
        attrs.push({ name: attrName, value: decodeEntities(xml.slice(vs, j)), valueStart: vs, valueEnd: j });
      }
    }
    if (j >= n && tagEnd === n)
      problems.push({ start: lt, end: n, message: `Start tag <${name}> is not terminated.` });
    const node: XmlNode = {
      name,
      start: lt,
      openEnd: tagEnd,
      closeStart: tagEnd,
      end: tagEnd,
      attrs,
      children: [],
      text: [],
      closed: selfClosing,
    };
    const parent = stack[stack.length - 1];
    if (parent !== undefined) parent.children.push(node);
    else roots.push(node);
    if (!selfClosing) stack.push(node);
    i = tagEnd;
  }
  while (stack.length > 0) {
    const open = stack.pop()!;
    open.closeStart = n;
    open.end = n;
    problems.push({ start: open.start, end: open.openEnd, message: `<${open.name}> is not closed.` });
  }
  return { roots, problems };
}

export function attr(node: XmlNode, name: string): XmlAttr | undefined {
  for (const a of node.attrs) if (a.name === name) return a;
  return undefined;
}
