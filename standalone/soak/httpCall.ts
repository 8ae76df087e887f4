import { generateApiKey } from '@folio/shared';

/** The admin key the soak starts Folio with and calls it with. */
export const SOAK_ADMIN_KEY = generateApiKey().token;

export interface Answer {
  status: number;
  // Answers are judged field by field by their callers.
  body: any;
  replayed: boolean;
}

/** One JSON request with an optional idempotency key; the answer with its replay flag. */
export const call = async (
  base: string,
  method: string,
  path: string,
  { body, key, timeoutMs = 10_000 }: { body?: unknown; key?: string; timeoutMs?: number } = {},
): Promise<Answer> => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${SOAK_ADMIN_KEY}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(key === undefined ? {} : { 'Idempotency-Key': key }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : JSON.parse(text),
    replayed: response.headers.get('Idempotent-Replayed') === 'true',
  };
};

/** A call that must succeed (2xx); anything else throws with the answer. */
export const mustCall = async (base: string, method: string, path: string, options: { body?: unknown; key?: string } = {}): Promise<any> => {
  const answer = await call(base, method, path, options);
  if (answer.status >= 300) throw new Error(`${method} ${path} → ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
};
