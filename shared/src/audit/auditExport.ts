import { z } from 'zod';
import type { EventStore, JsonObject, RecordedEvent } from '../eventStore/eventStore.js';
import { canonicalJson } from './canonicalJson.js';
import { checkpointSchema, type Checkpoint } from './checkpoints.js';
import { CHECKPOINT_STREAM, isChainedStream, sha256Hex } from './eventHash.js';
import { figuresToJson, trialBalanceToJson } from './auditJson.js';
import { checkpointOf, createLogVerifier, type IntegrityProblem, type VerificationReport } from './logVerifier.js';
import { keyIdOfPem, verifySignature, type AuditSigner } from './signing.js';
import { refuseBeyondHead } from './pointInTime.js';
import { foldBooks, trialBalanceOf } from './trialBalance.js';

/**
 * An audit export at a position: a set of files that prove themselves with no database.
 * - `events.ndjson`: every event of the chained streams up to the position, in `$all` order, one
 *   canonical JSON object per line: `{streamName, revision, position, id, type, recordedAt, data,
 *   metadata}` (revision and position as decimal strings, metadata `null` when absent);
 * - `balances.json`: every account's figures there (canonical JSON);
 * - `trial-balance.json`: the totals per currency, money in transit, movements in flight;
 * - `checkpoint.json`: the newest signed checkpoint at or below the position (`null` if none);
 * - `public-key.pem`: the signing key (compare its key id with the one published out of band);
 * - `manifest.json`: `{format, position, createdAt, keyId, files: {name: sha256 hex}}` and the
 *   Ed25519 `signature` (base64) of the canonical JSON of everything else in the manifest.
 * Every JSON file ends with one newline.
 */
export const EXPORT_FORMAT = 'folio-audit-export/1';
export const BUNDLE_FORMAT = 'folio-audit-export-bundle/1';
export const EXPORT_FILES = ['events.ndjson', 'balances.json', 'trial-balance.json', 'checkpoint.json', 'public-key.pem'] as const;
export const MANIFEST_FILE = 'manifest.json';

export type ExportFiles = Record<string, string>;

const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);

const manifestSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  position: decimal,
  createdAt: z.iso.datetime(),
  keyId: z.string().regex(/^[0-9a-f]{64}$/),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
  signature: z.string().min(1),
});

const exportedEventSchema = z.strictObject({
  streamName: z.string().min(1),
  revision: decimal,
  position: decimal,
  id: z.string().min(1),
  type: z.string().min(1),
  recordedAt: z.iso.datetime(),
  data: z.record(z.string(), z.json()),
  metadata: z.record(z.string(), z.json()).nullable(),
});

const jsonFile = (value: JsonObject | JsonObject[] | null): string => `${canonicalJson(value)}\n`;

const exportedLine = (event: RecordedEvent): string =>
  canonicalJson({
    streamName: event.streamName,
    revision: event.revision.toString(),
    position: event.position.toString(),
    id: event.id,
    type: event.type,
    recordedAt: event.created.toISOString(),
    data: event.data,
    metadata: event.metadata ?? null,
  });

/** The files derived from the events alone: what a verifier recomputes and compares. */
const derivedFiles = (events: RecordedEvent[], position: bigint) => {
  const { fold } = foldBooks(events, { position });
  const trialBalance = trialBalanceOf(fold, position);
  let checkpoint: Checkpoint | null = null;
  for (const event of events) {
    if (event.streamName !== CHECKPOINT_STREAM) continue;
    const found = checkpointOf(event.data);
    if (found !== undefined && BigInt(found.payload.position) <= position) checkpoint = found;
  }
  return {
    'balances.json': jsonFile(trialBalance.accounts.map(figuresToJson)),
    'trial-balance.json': jsonFile(trialBalanceToJson(trialBalance)),
    'checkpoint.json': jsonFile(checkpoint as unknown as JsonObject | null),
  };
};

export const createExport = async (
  eventStore: EventStore,
  signer: AuditSigner,
  options: { position?: bigint; now: Date },
): Promise<ExportFiles> => {
  // A signed export "at P" must never change: P cannot lie beyond what is written.
  await refuseBeyondHead(eventStore, options.position);
  const position = options.position ?? (await eventStore.headPosition()) ?? 0n;
  const events: RecordedEvent[] = [];
  for await (const event of eventStore.readAll()) {
    if (event.position > position) break;
    if (isChainedStream(event.streamName)) events.push(event);
  }
  const files: ExportFiles = {
    'events.ndjson': events.map((event) => `${exportedLine(event)}\n`).join(''),
    ...derivedFiles(events, position),
    'public-key.pem': signer.publicKeyPem,
  };
  const unsigned = {
    format: EXPORT_FORMAT,
    position: position.toString(),
    createdAt: options.now.toISOString(),
    keyId: signer.keyId,
    files: Object.fromEntries(Object.entries(files).map(([name, content]) => [name, sha256Hex(content)])),
  };
  files[MANIFEST_FILE] = jsonFile({ ...unsigned, signature: signer.sign(canonicalJson(unsigned)) });
  return files;
};

export interface ExportVerification {
  ok: boolean;
  position: string | undefined;
  keyId: string | undefined;
  /** Problems with the files themselves (manifest, signature, hashes, derived figures). */
  problems: string[];
  /** The chains and checkpoints of the exported events. */
  log: VerificationReport | undefined;
  firstBroken: IntegrityProblem | undefined;
}

const parseJson = (text: string): unknown => JSON.parse(text);

/** Verifies an export's files with no database: every check `docs/audit-format.md` describes. */
export const verifyExport = (files: ExportFiles, options: { trustedKeyId?: string } = {}): ExportVerification => {
  const problems: string[] = [];
  const fail = (log?: VerificationReport): ExportVerification => ({
    ok: false,
    position: undefined,
    keyId: undefined,
    problems,
    log,
    firstBroken: log?.firstBroken,
  });
  const manifestText = files[MANIFEST_FILE];
  if (manifestText === undefined) {
    problems.push(`${MANIFEST_FILE} is missing`);
    return fail();
  }
  let manifest: z.output<typeof manifestSchema>;
  try {
    manifest = manifestSchema.parse(parseJson(manifestText));
  } catch {
    problems.push(`${MANIFEST_FILE} is not a manifest of ${EXPORT_FORMAT}`);
    return fail();
  }
  const { signature, ...unsigned } = manifest;
  if (manifestText !== jsonFile(manifest as unknown as JsonObject)) problems.push(`${MANIFEST_FILE} is not in canonical form`);
  const publicKey = files['public-key.pem'];
  if (publicKey === undefined || keyIdOfPem(publicKey) !== manifest.keyId) {
    problems.push('public-key.pem is missing or is not the key the manifest names');
  } else if (!verifySignature(publicKey, canonicalJson(unsigned as unknown as JsonObject), signature)) {
    problems.push('the manifest signature does not verify');
  }
  if (options.trustedKeyId !== undefined && manifest.keyId !== options.trustedKeyId) {
    problems.push(`the export is signed by key ${manifest.keyId}, not the trusted key ${options.trustedKeyId}`);
  }
  const listed = Object.keys(manifest.files).sort();
  const expected = [...EXPORT_FILES].sort();
  if (listed.join(',') !== expected.join(',')) problems.push(`the manifest lists ${listed.join(', ')}, expected ${expected.join(', ')}`);
  for (const name of Object.keys(files)) {
    if (name !== MANIFEST_FILE && !(name in manifest.files)) problems.push(`${name} is not in the manifest`);
  }
  for (const [name, hash] of Object.entries(manifest.files)) {
    const content = files[name];
    if (content === undefined) problems.push(`${name} is missing`);
    else if (sha256Hex(content) !== hash) problems.push(`${name} does not match its hash in the manifest: altered`);
  }

  const position = BigInt(manifest.position);
  const events: RecordedEvent[] = [];
  const lines = (files['events.ndjson'] ?? '').split('\n');
  if (lines.pop() !== '') problems.push('events.ndjson does not end with a newline');
  for (const [index, line] of lines.entries()) {
    let parsed: z.output<typeof exportedEventSchema>;
    try {
      parsed = exportedEventSchema.parse(parseJson(line));
    } catch {
      problems.push(`events.ndjson line ${index + 1} is not an exported event`);
      continue;
    }
    const event: RecordedEvent = {
      streamName: parsed.streamName,
      id: parsed.id,
      type: parsed.type,
      revision: BigInt(parsed.revision),
      position: BigInt(parsed.position),
      created: new Date(parsed.recordedAt),
      data: parsed.data as JsonObject,
      metadata: (parsed.metadata ?? undefined) as JsonObject | undefined,
    };
    if (exportedLine(event) !== line) problems.push(`events.ndjson line ${index + 1} is not in canonical form`);
    if (event.position > position) problems.push(`events.ndjson line ${index + 1} is beyond the export's position`);
    events.push(event);
  }

  const checkpoints = events.flatMap((event) => {
    if (event.streamName !== CHECKPOINT_STREAM) return [];
    const checkpoint = checkpointSchema.safeParse(event.data);
    return checkpoint.success ? [{ checkpoint: checkpoint.data, event }] : [];
  });
  const verifier = createLogVerifier(checkpoints, { trustedKeyId: options.trustedKeyId ?? manifest.keyId });
  for (const event of events) verifier.add(event);
  const log = verifier.finish();
  try {
    for (const [name, content] of Object.entries(derivedFiles(events, position))) {
      if (files[name] !== content) problems.push(`${name} differs from the figures the events give`);
    }
  } catch (error) {
    problems.push(`the events cannot be folded: ${error instanceof Error ? error.message : String(error)}`);
  }
  const ok = problems.length === 0 && log.ok;
  return { ok, position: manifest.position, keyId: manifest.keyId, problems, log, firstBroken: log.firstBroken };
};
