import { expect } from 'chai';
import { z } from 'zod';
import { ValidationError } from '../../src/errors/folioError.js';
import { parseRequest } from '../../src/http/validation.js';
import { amountSchema, metadataSchema } from '../../src/http/wireSchemas.js';

const failure = (run: () => unknown): ValidationError => {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return error as ValidationError;
  }
  expect.fail('expected a ValidationError');
};

describe('parseRequest', () => {
  const listQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100), after: z.string().optional() });

  it('returns the parsed value', () => {
    expect(parseRequest(z.strictObject({ amount: amountSchema }), { amount: '5' }, 'body')).to.deep.equal({ amount: 5n });
    expect(parseRequest(listQuery, { limit: '20' }, 'query')).to.deep.equal({ limit: 20 });
  });

  it('prefixes paths with the part of the request', () => {
    const error = failure(() => parseRequest(listQuery, { limit: '500' }, 'query'));
    expect(error.issues.map((issue) => issue.path)).to.deep.equal(['query.limit']);
    expect(error.message).to.match(/^invalid request query: query\.limit: /);
    const params = failure(() => parseRequest(z.strictObject({ id: z.string().regex(/^\d+$/) }), { id: 'x' }, 'params'));
    expect(params.issues[0]?.path).to.equal('params.id');
  });

  it('names the whole part when the value itself is wrong', () => {
    const error = failure(() => parseRequest(z.strictObject({}), 'text', 'body'));
    expect(error.issues.map((issue) => issue.path)).to.deep.equal(['body']);
  });

  it('lists one issue per unknown key, named in path and message', () => {
    const error = failure(() => parseRequest(z.strictObject({ a: z.string() }), { a: 'x', b: 1, c: 2 }, 'body'));
    expect(error.issues).to.deep.equal([
      { path: 'body.b', message: 'unknown field "b": not accepted here' },
      { path: 'body.c', message: 'unknown field "c": not accepted here' },
    ]);
    expect(error.message).to.include('body.b').and.include('body.c');
  });

  it('explains an invalid record key', () => {
    const schema = z.strictObject({ metadata: metadataSchema });
    const error = failure(() => parseRequest(schema, { metadata: { 'a b': 'v' } }, 'body'));
    expect(error.issues).to.have.length(1);
    expect(error.issues[0]?.path).to.equal('body.metadata.a b');
    expect(error.issues[0]?.message).to.match(/^invalid key: a metadata key is 1 to 40 characters/);
  });

  it('summarises many issues in the message and lists them all', () => {
    const schema = z.strictObject({ items: z.array(z.strictObject({ amount: amountSchema })) });
    const items = Array.from({ length: 5 }, () => ({ amount: '0' }));
    const error = failure(() => parseRequest(schema, { items }, 'body'));
    expect(error.issues.map((issue) => issue.path)).to.deep.equal([0, 1, 2, 3, 4].map((i) => `body.items.${i}.amount`));
    expect(error.message).to.match(/; and 2 more$/);
    expect(error.problemExtensions()).to.deep.equal({ errors: error.issues });
  });

  it('tells a missing field from a mistyped one', () => {
    const schema = z.strictObject({ amount: amountSchema, note: z.string() });
    const error = failure(() => parseRequest(schema, { note: 5 }, 'body'));
    expect(error.issues).to.deep.equal([
      { path: 'body.amount', message: 'required' },
      { path: 'body.note', message: 'Invalid input: expected string, received number' },
    ]);
  });
});
