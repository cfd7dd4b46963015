// The throughput benchmark (bench/throughput.js) at a small scale, so it keeps working: pre-signed
// transfers, training-round joins and updates (each contributor's second update replacing its first),
// and scoring commits all land, and the commits are general
// transactions built by @polkadot/api and authorized by each scorer's signature (the path the README
// documents for scorers who send commits themselves).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const here = path.dirname(fileURLToPath(import.meta.url));

function runBench(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, '..', 'bench', 'throughput.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdout.resume();
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out\n${stderr.slice(-3000)}`)); }, 600_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stderr);
      else reject(new Error(`throughput.js exited ${code}\n${stderr.slice(-3000)}`));
    });
  });
}

describe('throughput benchmark', () => {
  test('pre-signed transfers, updates and general-transaction commits are all included', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'modelchain-throughput-'));
    try {
      const json = path.join(dir, 'out.json');
      await runBench(['--transfers', '200', '--updates', '32', '--contributors', '16', '--commits', '63', '--json', json]);
      const { bounds, results } = JSON.parse(readFileSync(json));
      const kinds = [['transferKeepAlive', 200], ['joinRound', 16], ['submitUpdate', 32], ['commitScore', 63]];
      for (const [kind, total] of kinds) {
        const result = results[kind];
        assert.equal(result.total, total, kind);
        assert.equal(result.failures, 0, kind);
        assert.equal(result.blocks.reduce((s, b) => s + b.ok, 0), total, `${kind}: every one succeeded`);
        assert.ok(bounds[kind].perBlock > 0, kind);
      }
      // The runtime's weights make joining (stake held, records created) heavier than submitting (one
      // record written).
      assert.ok(bounds.joinRound.weight > bounds.submitUpdate.weight);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
