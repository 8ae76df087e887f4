import type { Document, DocumentSession } from '@folio/shared';

/** How a collection's documents are stored, when not as the batch works on them. */
export interface DocumentCodec {
  encode(document: Document): Document;
  decode(stored: Document): Document;
}

interface Entry {
  document: Document | undefined;
  /** Whether the store may hold the document: what a delete at the end has to undo. */
  stored: boolean;
  dirty: boolean;
}

/**
 * The documents one batch reads and writes, each read once and written once at the end: a
 * reconciliation batch touches the same lookups and summaries many times. A document created
 * and deleted inside the batch (a transient lookup) never reaches the store.
 */
export class BatchDocuments {
  private readonly collections = new Map<string, Map<string, Entry>>();

  constructor(
    private readonly session: DocumentSession,
    private readonly codecs: ReadonlyMap<string, DocumentCodec> = new Map(),
  ) {}

  private entriesOf(collection: string): Map<string, Entry> {
    let entries = this.collections.get(collection);
    if (entries === undefined) {
      entries = new Map();
      this.collections.set(collection, entries);
    }
    return entries;
  }

  /** The batch's copy when it has one; `null` when the store has to be asked. */
  peek<D>(collection: string, id: string): D | undefined | null {
    const entry = this.collections.get(collection)?.get(id);
    return entry === undefined ? null : (entry.document as D | undefined);
  }

  /**
   * Reads in one go the documents of `ids` the batch has no copy of yet, so the lookups that
   * follow need no read of their own (on a server, no round trip each).
   */
  async prefetch(collection: string, ids: Iterable<string>): Promise<void> {
    const entries = this.entriesOf(collection);
    const wanted = [...new Set(ids)].filter((id) => !entries.has(id));
    if (wanted.length === 0) return;
    const found = await this.session.getMany(collection, wanted);
    const codec = this.codecs.get(collection);
    for (const id of wanted) {
      const stored = found.get(id);
      const document = stored === undefined || codec === undefined ? stored : codec.decode(stored);
      entries.set(id, { document, stored: document !== undefined, dirty: false });
    }
  }

  async get<D>(collection: string, id: string): Promise<D | undefined> {
    const entries = this.entriesOf(collection);
    const entry = entries.get(id);
    if (entry !== undefined) return entry.document as D | undefined;
    const stored = await this.session.get(collection, id);
    const codec = this.codecs.get(collection);
    const document = stored === undefined || codec === undefined ? stored : codec.decode(stored);
    entries.set(id, { document, stored: document !== undefined, dirty: false });
    return document as D | undefined;
  }

  put<D extends { _id: string }>(collection: string, document: D): void {
    const entries = this.entriesOf(collection);
    const entry = entries.get(document._id);
    if (entry === undefined) entries.set(document._id, { document: document as unknown as Document, stored: true, dirty: true });
    else {
      entry.document = document as unknown as Document;
      entry.dirty = true;
    }
  }

  delete(collection: string, id: string): void {
    const entries = this.entriesOf(collection);
    const entry = entries.get(id);
    if (entry === undefined) entries.set(id, { document: undefined, stored: true, dirty: true });
    else {
      entry.document = undefined;
      entry.dirty = entry.stored;
    }
  }

  async flush(): Promise<void> {
    for (const [collection, entries] of this.collections) {
      const codec = this.codecs.get(collection);
      const puts: Document[] = [];
      for (const [id, entry] of entries) {
        if (!entry.dirty) continue;
        if (entry.document === undefined) await this.session.delete(collection, id);
        else puts.push(codec === undefined ? entry.document : codec.encode(entry.document));
        entry.dirty = false;
        entry.stored = entry.document !== undefined;
      }
      await this.session.putMany(collection, puts);
    }
  }
}
