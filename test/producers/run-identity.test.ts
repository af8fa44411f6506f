import { runIdentity } from '../../producers/run-identity.js';

describe(runIdentity.name, () => {
  it('names a scheduled tick after its slot time', () => {
    const slot = 1_741_953_600_000;
    expect(runIdentity({ id: `repeat:market-tick:${slot}`, opts: {} }, 't')).toEqual({
      runId: `t${slot}`,
      scheduledAt: new Date(slot),
    });
  });

  it("prefers the scheduler's prevMillis to the id", () => {
    expect(
      runIdentity({ id: 'repeat:universe-refresh:999', opts: { prevMillis: 1_741_953_600_000 } as never }, 'u'),
    ).toEqual({
      runId: 'u1741953600000',
      scheduledAt: new Date(1_741_953_600_000),
    });
  });

  it.each([
    ['tick-m123', 'm123'],
    ['universe-m1741953600000', 'm1741953600000'],
    ['tick-m-with-dash', 'm-with-dash'],
  ])('takes the run id of a manual job %j from after the first dash (%j)', (id, runId) => {
    expect(runIdentity({ id, opts: {} }, 't')).toEqual({ runId, scheduledAt: null });
  });

  it('derives the run id from a plain job id, dropping unsafe characters', () => {
    expect(runIdentity({ id: '42', opts: {} }, 't')).toEqual({ runId: 'j42', scheduledAt: null });
    expect(runIdentity({ id: 'a:b/c', opts: {} }, 't')).toEqual({ runId: 'jabc', scheduledAt: null });
  });

  it('is stable: the same job always gets the same run id', () => {
    const job = { id: 'repeat:market-tick:1741953660000', opts: {} };
    expect(runIdentity(job, 't')).toEqual(runIdentity(job, 't'));
  });
});
