// Starts and stops a real modelchain-node for a test: free loopback ports, `--tmp` storage, readiness
// measured on the RPC endpoint (not a sleep), and a guaranteed stop even when the test fails.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');

/** The node binary: $MODELCHAIN_NODE, or the debug build in the shared target dir. */
export function nodeBinary() {
  if (process.env.MODELCHAIN_NODE) return process.env.MODELCHAIN_NODE;
  const target = process.env.CARGO_TARGET_DIR || path.join(process.env.HOME, '.cache', 'modelchain', 'target');
  return path.join(target, 'debug', 'modelchain-node');
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const running = new Set();
function killAll() {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => { killAll(); process.exit(130); });
}

/** Runs the node binary to completion; resolves with its exit code and output. */
export function runToExit(args, { timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`modelchain-node ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function rpcReady(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system_health', params: [] }),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Starts `modelchain-node --chain <chain> --tmp` on free loopback ports and waits until its RPC answers.
 * `chain: 'dev'` runs `--dev` (Alice's validator) unless `peer` is set, which joins the dev chain as
 * another node (`--chain dev`). Returns { wsUrl, rpcPort, p2pPort, logs(), stop() }; stop() is
 * idempotent and waits for the process to end.
 */
export async function startNode({ chain = 'dev', peer = false, extraArgs = [], readyTimeoutMs = 180_000 } = {}) {
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const args = [
    // `--dev` is `--chain dev --alice --validator --force-authoring` and lets a validator start without a
    // persisted network key.
    ...(chain === 'dev' && !peer ? ['--dev'] : ['--chain', chain]),
    '--tmp',
    '--rpc-port', String(rpcPort),
    '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
    '--no-prometheus',
    '--no-telemetry',
    '--no-mdns',
    ...extraArgs,
  ];
  const child = spawn(nodeBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let log = '';
  child.stderr.on('data', (d) => {
    log += d;
    if (log.length > 1_000_000) log = log.slice(-500_000);
  });
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    running.delete(child);
    resolve(exited);
  }));

  const stop = async () => {
    if (exited) return exited;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const result = await exit;
    clearTimeout(timer);
    return result;
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (!(await rpcReady(rpcPort))) {
    if (exited) throw new Error(`modelchain-node exited early (${JSON.stringify(exited)}):\n${log.slice(-4000)}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`modelchain-node RPC not ready within ${readyTimeoutMs} ms:\n${log.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { wsUrl: `ws://127.0.0.1:${rpcPort}`, rpcPort, p2pPort, logs: () => log, stop };
}

export { repoRoot };
