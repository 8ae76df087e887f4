import { Writable } from 'node:stream';

/** A log destination that keeps what is written: the text as written, and its JSON lines parsed. */
export const capturedLog = <Line = Record<string, unknown>>() => {
  const text: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text.push(chunk.toString('utf8'));
      done();
    },
  });
  const lines = (): Line[] =>
    text
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Line);
  return { destination, text, lines };
};
