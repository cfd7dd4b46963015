// Bad command-line input ends the node with a clear message and a non-zero exit code, never a panic.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { freePort, runToExit } from '../lib/node.js';

function assertCleanFailure(result, pattern) {
  assert.notEqual(result.code, 0, `expected a non-zero exit, got ${JSON.stringify(result.code)}`);
  assert.equal(result.signal, null, 'the node ended by itself, not by a signal');
  const output = result.stdout + result.stderr;
  assert.doesNotMatch(output, /panicked|thread '.*' panicked|RUST_BACKTRACE/);
  assert.match(output, pattern);
}

test('an unknown chain-spec name is refused with a clear error', async () => {
  const result = await runToExit(['--chain', 'no-such-network', '--tmp', '--no-telemetry']);
  assertCleanFailure(result, /unknown chain `no-such-network`: expected `dev`, `local`, `production:<operators.json>` or the path/);
});

test('a busy RPC port is refused with a clear error instead of moving to another port', async () => {
  const port = await freePort();
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  try {
    const p2p = await freePort();
    const result = await runToExit([
      '--dev', '--tmp', '--no-telemetry', '--no-prometheus', '--no-mdns',
      '--rpc-port', String(port),
      '--listen-addr', `/ip4/127.0.0.1/tcp/${p2p}`,
    ]);
    assertCleanFailure(result, /cannot serve RPC on 127\.0\.0\.1:\d+: [Aa]ddress already in use/);
    // Refused before the service starts: a service torn down by a late bind failure can panic in a
    // task that arms a timer while the runtime shuts down (seen once in CI).
    assert.doesNotMatch(result.stdout + result.stderr, /Initializing Genesis/);
  } finally {
    blocker.close();
  }
});
