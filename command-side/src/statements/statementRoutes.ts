import { NotFoundError, correlationIdOf, fileHashSchema, parseRequest, statementImported, statementFormats, statementProviderSchema, type StatementFormat } from '@folio/shared';
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { WriteApiDependencies } from '../http/writeApiDependencies.js';
import { defaultFormatOf } from './importers/statementImporters.js';
import { createStatementImportService, type StatementImportResult } from './statementImportService.js';
import { DEFAULT_STATEMENT_UPLOAD_LIMIT, checkUpload, uploadBody } from './statementUpload.js';

const uploadQuerySchema = z.strictObject({
  provider: z.string(),
  format: z.string().optional(),
  /** The column mapping of a generic CSV, as JSON. */
  mapping: z.string().optional(),
  fileName: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\p{Cc}]+$/u, { error: 'must not contain control characters' })
    // A label for the import, never a path: nothing that could walk a file system is kept.
    .refine((name) => !/[/\\]/.test(name) && name !== '.' && name !== '..', { error: 'must be a file name, not a path' })
    .optional(),
});

const importParamsSchema = z.strictObject({ provider: statementProviderSchema, fileHash: fileHashSchema });

const importView = ({ summary, position, alreadyImported }: Pick<StatementImportResult, 'summary' | 'position'> & { alreadyImported?: boolean }) => ({
  ...statementImported.schema.encode(summary),
  ...(alreadyImported === undefined ? {} : { alreadyImported }),
  position: position.toString(),
});

const isStatementFormat = (format: string | undefined): format is StatementFormat => (statementFormats as readonly (string | undefined)[]).includes(format);

const importLocation = (provider: string, fileHash: string) => `/v1/statements/${provider}/${fileHash}`;

/**
 * `POST /v1/statements?provider=…[&format=…][&mapping=…][&fileName=…]` with the file as the body:
 * 201 with the import's summary, or 200 with the first import's summary when the same file was
 * imported before; a malformed file is a 422 naming the line, column and reason, and writes
 * nothing. `GET /v1/statements/:provider/:fileHash` answers an import's summary.
 */
export const statementRoutes = (deps: Pick<WriteApiDependencies, 'eventStore' | 'callerOf' | 'clock'>, options: { limitBytes?: number } = {}): Router => {
  const limitBytes = options.limitBytes ?? DEFAULT_STATEMENT_UPLOAD_LIMIT;
  const statements = createStatementImportService({ eventStore: deps.eventStore });
  const router = Router();

  router.post('/v1/statements', async (request, response: Response) => {
    try {
      const query = parseRequest(uploadQuerySchema, request.query, 'query');
      // An unknown format is refused by the import, after this check against every media type.
      const format = query.format ?? defaultFormatOf[query.provider];
      checkUpload(request, isStatementFormat(format) ? format : undefined, limitBytes);
      const result = await statements.importStatement(
        {
          provider: query.provider,
          format: query.format,
          ...(query.mapping === undefined ? {} : { mapping: query.mapping }),
          ...(query.fileName === undefined ? {} : { fileName: query.fileName }),
          content: uploadBody(request, limitBytes),
        },
        { correlationId: correlationIdOf(response.locals), actor: deps.callerOf(request), now: deps.clock() },
      );
      response
        .status(result.alreadyImported ? 200 : 201)
        .location(importLocation(result.summary.provider, result.summary.fileHash))
        .json(importView(result));
    } finally {
      // A file rejected before its end: the rest is read and dropped, so the answer reaches the client.
      if (!request.complete) request.resume();
    }
  });

  router.get('/v1/statements/:provider/:fileHash', async (request, response) => {
    const { provider, fileHash } = parseRequest(importParamsSchema, request.params, 'params');
    const found = await statements.find(provider, fileHash);
    if (found === undefined) throw new NotFoundError('statement import', `${provider}/${fileHash}`);
    response.json(importView(found));
  });

  return router;
};
