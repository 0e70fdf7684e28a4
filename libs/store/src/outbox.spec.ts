import { ChangeTracker, MAX_EVENT_CHANGES } from './outbox';

describe('ChangeTracker', () => {
  it('lists object types first, then documents in write order', () => {
    const changes = new ChangeTracker();
    changes.note('document', 'd2', 'T', false, true);
    changes.note('type', 'T', null, true, true);
    changes.note('document', 'd1', 'T', true, false);
    expect(changes.summarize()).toEqual({
      summary: {
        schema: { added: 0, modified: 1, removed: 0 },
        documents: { T: { added: 1, modified: 0, removed: 1 } },
      },
      changes: [
        { kind: 'objectType', objectType: 'T', id: 'T', op: 'modified' },
        { kind: 'document', objectType: 'T', id: 'd2', op: 'added' },
        { kind: 'document', objectType: 'T', id: 'd1', op: 'removed' },
      ],
      truncated: false,
    });
  });

  it('counts an entity once, from before the commit to after it', () => {
    const changes = new ChangeTracker();
    changes.note('document', 'gone-again', 'T', false, true);
    changes.note('document', 'gone-again', 'T', true, false); // added then removed: nothing
    changes.note('document', 'back', 'T', true, false);
    changes.note('document', 'back', 'T', false, true); // removed then written again: modified
    expect(changes.summarize().changes).toEqual([
      { kind: 'document', objectType: 'T', id: 'back', op: 'modified' },
    ]);
  });

  it(`lists the first ${MAX_EVENT_CHANGES} changes and counts them all`, () => {
    const changes = new ChangeTracker();
    for (let n = 0; n <= MAX_EVENT_CHANGES; n++) changes.note('document', `d${n}`, 'T', false, true);
    const { summary, changes: listed, truncated } = changes.summarize();
    expect([listed.length, truncated, summary.documents.T?.added]).toEqual([
      MAX_EVENT_CHANGES,
      true,
      MAX_EVENT_CHANGES + 1,
    ]);
  });
});
