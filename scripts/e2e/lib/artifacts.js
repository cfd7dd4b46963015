// Serves the generated fixtures (scripts/fixtures/out) over HTTP on a free loopback port, as an artifact
// host would: validators fetch models and golden datasets from it. Also computes the on-chain
// description of an artifact (SHA-256 digest and size) from the file.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { repoRoot } from './node.js';

export const fixturesDir = path.join(repoRoot, 'scripts', 'fixtures', 'out');

export function fixture(name) {
  return readFileSync(path.join(fixturesDir, name));
}

/** The scores onnxruntime computed for the fixtures (written by the fixture generator). */
export function reference() {
  return JSON.parse(fixture('reference.json').toString());
}

/** `/files/<name>` serves a fixture; anything else is a 404. Resolves with { url(path), close() }. */
export function serveFixtures() {
  const server = http.createServer((req, res) => {
    const match = /^\/files\/([A-Za-z0-9_.-]+)$/.exec(req.url);
    let body = null;
    if (match) {
      try { body = fixture(match[1]); } catch { body = null; }
    }
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: (p) => `http://127.0.0.1:${port}${p}`,
        close: () => new Promise((r) => server.close(r)),
      });
    });
  });
}

/** The on-chain artifact for fixture `name`, served at `uri`. */
export function artifactOf(name, uri, format) {
  const bytes = fixture(name);
  return {
    uri,
    digest: '0x' + createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    format,
  };
}
