import { expect } from 'chai';
import express, { type Request } from 'express';
import {
  ConflictError,
  IllegalStateError,
  MalformedJsonError,
  NotFoundError,
  PayloadTooLargeError,
  UnprocessableError,
  UnsupportedMediaTypeError,
} from '../../src/errors/commonErrors.js';
import { FolioError, ValidationError } from '../../src/errors/folioError.js';
import { StoreUnavailableError } from '../../src/eventStore/errors.js';
import {
  notFoundHandler,
  PROBLEM_TYPE_PREFIX,
  problemDetailsHandler,
  problemTitle,
  toJsonSafe,
  toProblem,
} from '../../src/http/problemDetails.js';
import { listen, rawRequest, type TestServer } from './httpTestServer.js';

/** A domain error the way the deciders will write them: a slug of its own and money inside. */
class InsufficientFundsError extends UnprocessableError {
  constructor(
    readonly available: bigint,
    readonly requested: bigint,
  ) {
    super(`insufficient funds: ${requested} requested, ${available} available`, { type: 'insufficient-funds' });
  }

  override problemExtensions(): Record<string, unknown> {
    return { available: this.available, requested: this.requested, limits: { daily: [1n, 2n] } };
  }
}

/** A subclass that names its slug by overriding the field rather than through the option. */
class AccountFrozenError extends IllegalStateError {
  override readonly type = 'account-frozen';

  constructor() {
    super('account 7 is frozen', { currentState: 'frozen', allowedTransitions: ['unfreeze', 'close'] });
  }
}

class CyclicExtensionsError extends ConflictError {
  override problemExtensions(): Record<string, unknown> {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    return { loop };
  }
}

class ReservedMembersError extends ConflictError {
  override problemExtensions(): Record<string, unknown> {
    return { status: 200, type: 'x', detail: 'y', extra: 'kept' };
  }
}

const throwing: Record<string, () => unknown> = {
  'not-found': () => new NotFoundError('account', 123456789012345678901234567890n),
  'illegal-state': () => new IllegalStateError('payment is settled', { currentState: 'settled' }),
  'account-frozen': () => new AccountFrozenError(),
  conflict: () => new ConflictError('reference "r-1" is already used'),
  'duplicate-reference': () => new ConflictError('reference "r-1" is already used', { type: 'duplicate-reference' }),
  unprocessable: () => new UnprocessableError('the rule says no'),
  'insufficient-funds': () => new InsufficientFundsError(500n, 9007199254740993n),
  'payload-too-large': () => new PayloadTooLargeError('too big', 1024),
  'unsupported-media-type': () => new UnsupportedMediaTypeError('not JSON', ['application/json']),
  'malformed-json': () => new MalformedJsonError('not JSON at all'),
  validation: () => new ValidationError('invalid request body', [{ path: 'body.amount', message: 'required' }]),
  cyclic: () => new CyclicExtensionsError('cycle'),
  reserved: () => new ReservedMembersError('reserved'),
  unexpected: () => new Error('connection to db://admin:hunter2@db failed'),
  'chosen-unavailable': () => new StoreUnavailableError('the read model is behind'),
  'not-an-error': () => 'a thrown string with a secret',
};

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  [extension: string]: unknown;
}

describe('problem details', () => {
  let server: TestServer;
  let unexpected: { error: unknown; path: string }[];

  before(async () => {
    const app = express();
    app.get('/throw/:kind', (request) => {
      const make = throwing[request.params.kind as string];
      if (make === undefined) throw new Error(`no such kind ${request.params.kind}`);
      throw make();
    });
    app.get('/reject', async () => {
      await Promise.resolve();
      throw new NotFoundError('payment', '42');
    });
    app.get('/correlated', (_request, response) => {
      response.locals.correlationId = 'corr-42';
      throw new Error('boom');
    });
    app.get('/items/:id', (request, response) => {
      response.json({ id: request.params.id });
    });
    app.post('/raw-parser', express.json({ limit: 64 }), (request, response) => {
      response.json(request.body);
    });
    app.use(notFoundHandler());
    app.use(
      problemDetailsHandler({
        onUnexpectedError: (error, request: Request) => unexpected.push({ error, path: request.path }),
      }),
    );
    server = await listen(app);
  });

  after(() => server.close());
  beforeEach(() => {
    unexpected = [];
  });

  const get = async (path: string): Promise<{ status: number; contentType: string | null; problem: Problem }> => {
    const response = await fetch(`${server.url}${path}`);
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      problem: (await response.json()) as Problem,
    };
  };

  const expectedStatus: [kind: string, status: number][] = [
    ['not-found', 404],
    ['illegal-state', 409],
    ['account-frozen', 409],
    ['conflict', 409],
    ['duplicate-reference', 409],
    ['unprocessable', 422],
    ['insufficient-funds', 422],
    ['payload-too-large', 413],
    ['unsupported-media-type', 415],
    ['malformed-json', 400],
    ['validation', 400],
  ];
  for (const [kind, status] of expectedStatus) {
    it(`sends ${kind} as a ${status} application/problem+json with a stable type`, async () => {
      const { status: actual, contentType, problem } = await get(`/throw/${kind}`);
      expect(actual).to.equal(status);
      expect(contentType).to.match(/^application\/problem\+json(;|$)/);
      expect(problem.type).to.equal(`urn:folio:problem:${kind}`);
      expect(problem.status).to.equal(status);
      expect(problem.title).to.equal(problemTitle(kind));
      expect(problem.instance).to.equal(`/throw/${kind}`);
      expect(problem.detail).to.be.a('string').and.not.equal('');
    });
  }
  it('reports no 4xx as unexpected', async () => {
    for (const [kind] of expectedStatus) await get(`/throw/${kind}`);
    expect(unexpected).to.deep.equal([]);
  });

  it('gives a not-found its resource and id, a bigint id as its decimal string', async () => {
    const { problem } = await get('/throw/not-found');
    expect(problem).to.deep.equal({
      type: 'urn:folio:problem:not-found',
      title: 'Not found',
      status: 404,
      detail: 'account 123456789012345678901234567890 was not found',
      instance: '/throw/not-found',
      resource: 'account',
      id: '123456789012345678901234567890',
    });
  });

  it('gives an illegal state its current state and, when known, the allowed transitions', async () => {
    const plain = (await get('/throw/illegal-state')).problem;
    expect(plain.currentState).to.equal('settled');
    expect(plain).not.to.have.property('allowedTransitions');
    const frozen = (await get('/throw/account-frozen')).problem;
    expect(frozen).to.include({ title: 'Account frozen', detail: 'account 7 is frozen', currentState: 'frozen' });
    expect(frozen.allowedTransitions).to.deep.equal(['unfreeze', 'close']);
  });

  it('serialises bigint extensions at any depth as decimal strings, beyond 2^53 exactly', async () => {
    const { problem } = await get('/throw/insufficient-funds');
    expect(problem).to.deep.include({
      title: 'Insufficient funds',
      available: '500',
      requested: '9007199254740993',
      limits: { daily: ['1', '2'] },
    });
  });

  it('answers a 5xx the server chose (a typed error) without logging it as unexpected', async () => {
    const { status, problem } = await get('/throw/chosen-unavailable');
    expect(status).to.equal(503);
    expect(problem.type).to.equal('urn:folio:problem:store-unavailable');
    expect(unexpected).to.deep.equal([]);
  });

  it('lists validation issues under errors', async () => {
    const { problem } = await get('/throw/validation');
    expect(problem.title).to.equal('Invalid request');
    expect(problem.errors).to.deep.equal([{ path: 'body.amount', message: 'required' }]);
  });

  it('adds the size limit to a payload-too-large and the supported types to an unsupported-media-type', async () => {
    expect((await get('/throw/payload-too-large')).problem.limitBytes).to.equal(1024);
    expect((await get('/throw/unsupported-media-type')).problem.supported).to.deep.equal(['application/json']);
  });

  it('keeps the standard members when an extension reuses their names', async () => {
    const { status, problem } = await get('/throw/reserved');
    expect(status).to.equal(409);
    expect(problem).to.include({ type: 'urn:folio:problem:conflict', status: 409, detail: 'reserved', extra: 'kept' });
  });

  it('maps errors of async handlers too', async () => {
    const { status, problem } = await get('/reject');
    expect(status).to.equal(404);
    expect(problem).to.include({ resource: 'payment', id: '42' });
  });

  for (const [kind, label] of [
    ['unexpected', 'an unexpected Error'],
    ['not-an-error', 'a thrown string'],
  ]) {
    it(`answers ${label} with a generic 500 that leaks nothing, and reports it`, async () => {
      const response = await fetch(`${server.url}/throw/${kind}`);
      const text = await response.text();
      expect(response.status).to.equal(500);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(text).not.to.match(/hunter2|secret|db:|stack/);
      const problem = JSON.parse(text) as Problem;
      expect(problem).to.include({ type: `${PROBLEM_TYPE_PREFIX}internal`, title: 'Internal server error', status: 500 });
      expect(unexpected).to.have.length(1);
      expect(unexpected[0]?.path).to.equal(`/throw/${kind}`);
    });
  }

  it('answers a 500 when a typed error has extensions that cannot be serialised', async () => {
    const { status, problem } = await get('/throw/cyclic');
    expect(status).to.equal(500);
    expect(problem.type).to.equal('urn:folio:problem:internal');
    expect(unexpected).to.have.length(1);
  });

  it("quotes the request's correlation id", async () => {
    const { status, problem } = await get('/correlated');
    expect(status).to.equal(500);
    expect(problem.correlationId).to.equal('corr-42');
  });

  it('answers an unknown route with a 404 route-not-found naming method and path, without the query', async () => {
    const response = await fetch(`${server.url}/no/such/route?token=abc`, { method: 'DELETE' });
    expect(response.status).to.equal(404);
    expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(await response.json()).to.deep.equal({
      type: 'urn:folio:problem:route-not-found',
      title: 'Route not found',
      status: 404,
      detail: 'no route for DELETE /no/such/route',
      instance: '/no/such/route',
      method: 'DELETE',
      path: '/no/such/route',
    });
  });

  it('answers an undecodable path parameter with a 400, not a 500', async () => {
    const { status, problem } = await get('/items/%E0%A4%A');
    expect(status).to.equal(400);
    expect(problem.type).to.equal('urn:folio:problem:bad-request');
    expect(unexpected).to.deep.equal([]);
  });

  describe("errors of express's own JSON parser", () => {
    const post = (headers: Record<string, string>, body: string) =>
      rawRequest(`${server.url}/raw-parser`, { method: 'POST', headers, chunks: [body] });

    it('maps a malformed body to 400 malformed-json', async () => {
      const response = await post({ 'content-type': 'application/json' }, '{"a":');
      expect(response.status).to.equal(400);
      expect(response.contentType).to.match(/^application\/problem\+json/);
      expect(response.body).to.include({ type: 'urn:folio:problem:malformed-json', title: 'Malformed JSON' });
    });

    it('maps a body over the limit to 413 payload-too-large', async () => {
      const response = await post({ 'content-type': 'application/json' }, JSON.stringify({ a: 'x'.repeat(100) }));
      expect(response.status).to.equal(413);
      expect(response.body).to.include({ type: 'urn:folio:problem:payload-too-large', limitBytes: 64 });
    });

    it('maps an unsupported charset and content encoding to 415', async () => {
      const charset = await post({ 'content-type': 'application/json; charset=latin1' }, '{}');
      expect(charset.status).to.equal(415);
      expect(charset.body).to.include({ type: 'urn:folio:problem:unsupported-media-type' });
      const encoding = await post({ 'content-type': 'application/json', 'content-encoding': 'x-unknown' }, '{}');
      expect(encoding.status).to.equal(415);
      expect(encoding.body).to.include({ type: 'urn:folio:problem:unsupported-media-type' });
    });
  });
});

describe('toProblem', () => {
  it('builds the document from a typed error', () => {
    const problem = toProblem(new UnprocessableError('limit exceeded', { type: 'daily-limit-exceeded' }), '/payments');
    expect(problem).to.deep.equal({
      type: 'urn:folio:problem:daily-limit-exceeded',
      title: 'Daily limit exceeded',
      status: 422,
      detail: 'limit exceeded',
      instance: '/payments',
    });
  });

  it('hides everything about an error it does not know', () => {
    const problem = toProblem(new TypeError('cannot read x of undefined'), '/p', { correlationId: 'c-1' });
    expect(problem).to.deep.equal({
      type: 'urn:folio:problem:internal',
      title: 'Internal server error',
      status: 500,
      detail: problem.detail,
      instance: '/p',
      correlationId: 'c-1',
    });
    expect(problem.detail).not.to.include('undefined');
  });

  it('treats a FolioError of any subclass as known', () => {
    class TeapotError extends FolioError {
      readonly type = 'teapot';
      readonly status = 418;
    }
    expect(toProblem(new TeapotError('short and stout'), '/')).to.include({ status: 418, detail: 'short and stout' });
  });
});

describe('problemTitle', () => {
  it('turns a slug into a short sentence-case title', () => {
    expect(problemTitle('insufficient-funds')).to.equal('Insufficient funds');
    expect(problemTitle('not-found')).to.equal('Not found');
    expect(problemTitle('malformed-json')).to.equal('Malformed JSON');
    expect(problemTitle('conflict')).to.equal('Conflict');
    expect(problemTitle('__proto__')).to.equal('__proto__');
  });
});

describe('toJsonSafe', () => {
  it('turns every bigint into its decimal string and leaves other JSON alone', () => {
    expect(toJsonSafe({ a: 1n, b: [-2n, { c: 10n ** 30n }], d: 'x', e: null, f: 1.5 })).to.deep.equal({
      a: '1',
      b: ['-2', { c: '1000000000000000000000000000000' }],
      d: 'x',
      e: null,
      f: 1.5,
    });
    expect(toJsonSafe(5n)).to.equal('5');
  });
});

describe('problemDetailsHandler default reporting', () => {
  it('writes one JSON line to stderr for a 500, with the stack but not to the client', async () => {
    const app = express();
    app.get('/boom', () => {
      throw new Error('kaboom', { cause: new Error('root cause at esdb://admin:changeit@eventstore:2113') });
    });
    app.use(problemDetailsHandler());
    const server = await listen(app);
    const original = console.error;
    const lines: unknown[][] = [];
    console.error = (...args: unknown[]) => {
      lines.push(args);
    };
    try {
      const response = await fetch(`${server.url}/boom?q=1`);
      expect(response.status).to.equal(500);
      expect(await response.text()).not.to.include('kaboom');
    } finally {
      console.error = original;
      await server.close();
    }
    expect(lines).to.have.length(1);
    const [line] = lines[0] as [string];
    expect(line).not.to.include('\n');
    // A driver's message quoting a connection string keeps its credentials out of the line.
    expect(line).not.to.include('changeit');
    const logged = JSON.parse(line) as Record<string, unknown>;
    expect(logged).to.deep.include({ level: 'error', method: 'GET', path: '/boom' });
    expect(logged.error).to.deep.include({ name: 'Error', message: 'kaboom' });
    expect((logged.error as { cause: unknown }).cause).to.deep.include({ message: 'root cause at esdb://admin:[redacted]@eventstore:2113' });
  });
});
