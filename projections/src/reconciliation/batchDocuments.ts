import type { Document, DocumentSession } from '@folio/shared';

/**
 * The documents one batch reads and writes, each read once and written once at the end: a
 * reconciliation batch touches the same lookups and summaries many times.
 */
export class BatchDocuments {
  private readonly cache = new Map<string, Document | undefined>();
  private readonly dirty = new Set<string>();

  constructor(private readonly session: DocumentSession) {}

  async get<D>(collection: string, id: string): Promise<D | undefined> {
    const key = `${collection}\u0000${id}`;
    if (!this.cache.has(key)) this.cache.set(key, await this.session.get(collection, id));
    return this.cache.get(key) as D | undefined;
  }

  put<D extends { _id: string }>(collection: string, document: D): void {
    const key = `${collection}\u0000${document._id}`;
    this.cache.set(key, document as unknown as Document);
    this.dirty.add(key);
  }

  delete(collection: string, id: string): void {
    const key = `${collection}\u0000${id}`;
    this.cache.set(key, undefined);
    this.dirty.add(key);
  }

  async flush(): Promise<void> {
    for (const key of this.dirty) {
      const [collection, id] = key.split('\u0000') as [string, string];
      const document = this.cache.get(key);
      if (document === undefined) await this.session.delete(collection, id);
      else await this.session.put(collection, document);
    }
    this.dirty.clear();
  }
}
