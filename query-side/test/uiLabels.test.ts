import { expect } from 'chai';
import { journalKinds } from '@folio/shared';
import { TYPE_LABELS } from '../ui/src/format.js';

describe('UI labels', () => {
  it('names every kind of journal, so each can be shown and chosen in the type filter', () => {
    expect(Object.keys(TYPE_LABELS)).to.have.members([...journalKinds]);
  });
});
