import { executeUpdateOnce } from '../../src/operations/context';

// An Update whose workflow task failed (the server's FAILED_PRECONDITION) is sent again under the same update id, so
// the workflow takes it once; any other failure is the caller's.

const taskFailed = () => Object.assign(new Error('Workflow Update failed'), { cause: new Error('9 FAILED_PRECONDITION: Unable to perform workflow execution update due to unexpected workflow task failure.') });

describe('executeUpdateOnce', () => {
  it('sends again under the same update id when the workflow task carrying the Update failed', async () => {
    const ids: string[] = [];
    const answer = await executeUpdateOnce(async (updateId) => {
      ids.push(updateId);
      if (ids.length < 3) throw taskFailed();
      return 'taken';
    });
    expect(answer).toBe('taken');
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it('passes any other failure on at once, and gives up after four tries', async () => {
    let calls = 0;
    await expect(
      executeUpdateOnce(async () => {
        calls++;
        throw new Error('invoice PS-INV1 is cancelled');
      }),
    ).rejects.toThrow('invoice PS-INV1 is cancelled');
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      executeUpdateOnce(async () => {
        calls++;
        throw taskFailed();
      }),
    ).rejects.toThrow('Workflow Update failed');
    expect(calls).toBe(4);
  });
});
