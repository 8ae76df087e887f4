import type { StatementFormat } from '@folio/shared';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { MalformedStatementError } from './malformedStatementError.js';

/**
 * Deeper than any statement nests (camt.053 stays under 20 levels). The parser resolves each
 * name's namespace by walking up the open elements, so unbounded nesting takes quadratic time.
 */
const MAX_XML_DEPTH = 64;

/**
 * In order: markup in which `&` stands for itself (comments, CDATA sections, processing
 * instructions, each possibly cut off by the end of the text), a reference whose name ends on its
 * own line (the parser judges it there), and any other `&`.
 */
const AMPERSANDS = /<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<\?[\s\S]*?(?:\?>|$)|&(?:#[0-9]+|#x[0-9a-fA-F]+|[^\s<>&;'"]+);|&/g;

/** Line breaks as the parser counts them. */
const LINE_BREAKS = /\r\n?|\n/g;

/** How many lines `text` starts before its first `&` that starts no reference, if it has one. */
const linesBeforeBareAmpersand = (text: string): number | undefined => {
  for (const match of text.matchAll(AMPERSANDS)) {
    if (match[0] === '&') return text.slice(0, match.index).match(LINE_BREAKS)?.length ?? 0;
  }
  return undefined;
};

/** An element read whole: small subtrees only (a statement header, one entry), never the document. */
export interface XmlElement {
  name: string;
  attributes: Readonly<Record<string, string>>;
  text: string;
  children: XmlElement[];
  /** 1-based line of its start tag. */
  line: number;
}

/** The first descendant along `path` of local names. */
export const childAt = (element: XmlElement | undefined, ...path: string[]): XmlElement | undefined => {
  let at = element;
  for (const name of path) at = at?.children.find((child) => child.name === name);
  return at;
};

/** Every child named `name`. */
export const childrenNamed = (element: XmlElement | undefined, name: string): XmlElement[] =>
  element?.children.filter((child) => child.name === name) ?? [];

/** The trimmed text along `path`, or `undefined` when absent or empty. */
export const textAt = (element: XmlElement | undefined, ...path: string[]): string | undefined => {
  const text = childAt(element, ...path)?.text.trim();
  return text === undefined || text === '' ? undefined : text;
};

export interface XmlElementEvents {
  /** Called for the root element: the document is checked before anything else is read. */
  root(tag: { name: string; uri: string; line: number }): void;
  /** Whether an element at this path (local names from the root) is read whole. */
  captures(path: readonly string[]): boolean;
  /** Whether a child of a captured element is left out of it (it is captured on its own). */
  detaches(path: readonly string[]): boolean;
  /** A captured element has opened; its children arrive as they are read. */
  started?(path: readonly string[], element: XmlElement): void;
  /** A captured element, once closed; `path` includes it. */
  element(path: readonly string[], element: XmlElement): void;
}

/**
 * Streams an XML document through saxes and hands over whole elements at the paths the caller
 * captures, so a statement of any length is read one entry at a time. Namespaces are resolved
 * and names compared by local name. A DOCTYPE is refused: statements have none, and entity
 * definitions are a way to make a small file expand into a huge one.
 */
export async function* xmlElements<T>(
  text: AsyncIterable<string>,
  format: StatementFormat,
  events: XmlElementEvents,
  drain: () => T[],
): AsyncGenerator<T> {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const path: string[] = [];
  /** Per open element: the element when it is being read, and whether it is a captured root. */
  const open: { element: XmlElement | undefined; root: boolean }[] = [];
  let failure: Error | undefined;
  const fail = (reason: string, line = parser.line, column?: string): never => {
    throw new MalformedStatementError(format, [{ line, reason, ...(column === undefined ? {} : { column }) }]);
  };
  // A bare `&` has the parser read an entity name up to the next `;`, over lines and tags, and
  // break there or at the end of the file. The text from the end of the last tag read on is kept
  // (`kept`, from `keptFrom` in the document), so that a break is reported at such an `&` in it.
  let kept = '';
  let keptFrom = 0;
  let tagEnd = 0;
  let tagEndLine = 1;
  const tagRead = () => {
    tagEnd = parser.position;
    tagEndLine = parser.line;
  };
  parser.on('error', (error) => {
    if (failure !== undefined) return;
    const lines = linesBeforeBareAmpersand(kept.slice(tagEnd - keptFrom, parser.position - keptFrom));
    failure = new MalformedStatementError(format, [
      lines === undefined
        ? { line: parser.line, reason: `not well-formed XML: ${error.message.replace(/^(?:[^:]*:)?\d+:\d+: /, '')}` }
        : { line: tagEndLine + lines, reason: 'not well-formed XML: "&" starts no entity or character reference (write a literal & as &amp;)' },
    ]);
  });
  // The parser reads on past an error to the end of its chunk, nesting what follows wrongly: those
  // elements would be taken for entries or a root, and their problems reported instead of the break.
  const broken = () => failure !== undefined;
  parser.on('doctype', () => {
    if (!broken()) fail('a DOCTYPE is not accepted in a statement');
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (broken()) return;
    tagRead();
    if (path.length >= MAX_XML_DEPTH) fail(`elements nest deeper than ${MAX_XML_DEPTH} levels, which no statement does`, parser.line, tag.local);
    if (path.length === 0) events.root({ name: tag.local, uri: tag.uri, line: parser.line });
    path.push(tag.local);
    const parent = open[open.length - 1]?.element;
    const attached = parent !== undefined && !events.detaches(path);
    if (!attached && !events.captures(path)) {
      open.push({ element: undefined, root: false });
      return;
    }
    const attributes: Record<string, string> = {};
    for (const attribute of Object.values(tag.attributes)) attributes[attribute.local] = attribute.value;
    const element: XmlElement = { name: tag.local, attributes, text: '', children: [], line: parser.line };
    if (attached) parent.children.push(element);
    open.push({ element, root: !attached });
    if (!attached) events.started?.(path, element);
  });
  const appendText = (value: string) => {
    if (broken()) return;
    const current = open[open.length - 1]?.element;
    if (current !== undefined) current.text += value;
  };
  parser.on('text', appendText);
  parser.on('cdata', appendText);
  parser.on('closetag', () => {
    if (broken()) return;
    tagRead();
    const closed = open.pop();
    if (closed?.element !== undefined && closed.root) events.element(path, closed.element);
    path.pop();
  });

  const step = (write: () => void): T[] => {
    try {
      write();
    } catch (error) {
      if (error instanceof MalformedStatementError) throw error;
      failure ??= error as Error;
    }
    if (failure !== undefined) throw failure;
    kept = kept.slice(tagEnd - keptFrom);
    keptFrom = tagEnd;
    return drain();
  };
  for await (const chunk of text) {
    kept += chunk;
    yield* step(() => parser.write(chunk));
  }
  yield* step(() => parser.close());
  if (failure !== undefined) throw failure;
}
