import { expect } from 'chai';
import { createGroupCommitter, type BatchOutcome } from '../../src/eventStore/sqlite/groupCommit.js';

/** A commit the test finishes by hand, so it can submit more while one is in flight. */
const manualCommits = () => {
  const batches: { requests: readonly string[]; finish: (outcomes?: BatchOutcome<string>[]) => void; fail: (error: Error) => void }[] = [];
  const commitBatch = (requests: readonly string[]) =>
    new Promise<BatchOutcome<string>[]>((resolve, reject) => {
      batches.push({
        requests,
        finish: (outcomes) => resolve(outcomes ?? requests.map((request) => ({ ok: true, value: `${request} committed` }))),
        fail: reject,
      });
    });
  return { batches, commitBatch };
};

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('commits what was submitted in one turn together', async () => {
    const { batches, commitBatch } = manualCommits();
    const committer = createGroupCommitter(commitBatch, () => {});
    const answers = Promise.all(['a', 'b', 'c'].map((request) => committer.submit(request)));
    await turn();
    expect(batches.map((batch) => batch.requests)).to.deep.equal([['a', 'b', 'c']]);
    batches[0]!.finish();
    expect(await answers).to.deep.equal(['a committed', 'b committed', 'c committed']);
  });

  it('keeps one batch in flight: what arrives meanwhile waits and goes in the next one, whole', async () => {
    const { batches, commitBatch } = manualCommits();
    let commits = 0;
    const committer = createGroupCommitter(commitBatch, () => commits++);
    const first = committer.submit('a');
    await turn();
    const later = ['b', 'c', 'd'].map((request) => committer.submit(request));
    await turn();
    await turn();
    expect(batches.map((batch) => batch.requests)).to.deep.equal([['a']]);
    batches[0]!.finish();
    expect(await first).to.equal('a committed');
    await turn();
    expect(batches.map((batch) => batch.requests)).to.deep.equal([['a'], ['b', 'c', 'd']]);
    batches[1]!.finish();
    expect(await Promise.all(later)).to.deep.equal(['b committed', 'c committed', 'd committed']);
    expect(commits).to.equal(2);
  });

  it('gives each request its own outcome, and a failed batch its error to every request', async () => {
    const { batches, commitBatch } = manualCommits();
    const committer = createGroupCommitter(commitBatch, () => {});
    const mixed = Promise.allSettled([committer.submit('a'), committer.submit('b')]);
    await turn();
    batches[0]!.finish([{ ok: true, value: 'a committed' }, { ok: false, error: new Error('b conflicts') }]);
    const [a, b] = await mixed;
    expect(a).to.deep.include({ status: 'fulfilled', value: 'a committed' });
    expect(String((b as PromiseRejectedResult).reason)).to.contain('b conflicts');

    const failed = Promise.allSettled([committer.submit('c'), committer.submit('d')]);
    await turn();
    batches[1]!.fail(new Error('disk full'));
    for (const outcome of await failed) expect(String((outcome as PromiseRejectedResult).reason)).to.contain('disk full');
  });

  it('is idle only once every submitted request is settled', async () => {
    const { batches, commitBatch } = manualCommits();
    const committer = createGroupCommitter(commitBatch, () => {});
    await committer.idle();
    void committer.submit('a');
    await turn();
    void committer.submit('b');
    let idle = false;
    const waited = committer.idle().then(() => (idle = true));
    batches[0]!.finish();
    await turn();
    await turn();
    expect(idle).to.equal(false);
    batches[1]!.finish();
    await waited;
    expect(idle).to.equal(true);
  });
});
