import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('never writes secrets, wherever they sit in the logged object', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'info', stream);
    log.info(
      {
        apiToken: 'tok-123456',
        clientSecret: 'shh-secret',
        request: { headers: { authorization: 'Bearer abc.def', 'x-api-token': 'in-token' } },
        env: { BC_CLIENT_SECRET: 'bc-secret', TEMPORAL_ADDRESS: '127.0.0.1:7233' },
        config: { password: 'pw', clientState: 'cs-value' },
      },
      'hello',
    );
    const out = lines.join('');
    for (const secret of ['tok-123456', 'shh-secret', 'Bearer abc.def', 'in-token', 'bc-secret', 'cs-value', '"pw"']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('127.0.0.1:7233');
    expect(out).toContain('[redacted]');
  });
});
