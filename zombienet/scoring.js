// A zombienet custom-js check: on the running 4-validator network, publish a model version with an
// evaluation plan and let every validator's offchain worker score it. Returns how many validators
// revealed a verdict once the job concluded (the zndsl expects all four), after checking the outcome is
// the score onnxruntime computes for the fixture.
//
// The fixtures are served by a loopback HTTP server this script starts. Transactions are sent without
// waiting for block decoding (zombienet bundles an older @polkadot/api); effects are read from storage.
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const fixtures = path.resolve(__dirname, '..', 'scripts', 'fixtures', 'out');

function serve() {
  const server = http.createServer((req, res) => {
    const match = /^\/files\/([A-Za-z0-9_.-]+)$/.exec(req.url);
    const file = match && path.join(fixtures, match[1]);
    if (!file || !fs.existsSync(file)) return res.writeHead(404).end();
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function artifact(server, name, format) {
  const bytes = fs.readFileSync(path.join(fixtures, name));
  return {
    uri: `http://127.0.0.1:${server.address().port}/files/${name}`,
    digest: '0x' + crypto.createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    format,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until `read()` returns something other than undefined, polling every block time. */
async function until(read, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2000);
  }
}

async function run(nodeName, networkInfo) {
  const api = await zombie.connect(networkInfo.nodesByName[nodeName].wsUri);
  const alice = new zombie.Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  const server = await serve();
  try {
    // Every authority of the `local` spec is a scorer from genesis.
    const scorers = (await api.query.scoring.scorers.entries()).length;
    if (scorers !== 4) throw new Error(`expected 4 genesis scorers, found ${scorers}`);

    let nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
    const send = (tx) => tx.signAndSend(alice, { nonce: nonce++ });

    const dataset = (await api.query.modelRegistry.nextDatasetId()).toNumber();
    const model = (await api.query.modelRegistry.nextModelId()).toNumber();
    const version = (await api.query.modelRegistry.nextVersionId()).toNumber();
    await send(api.tx.modelRegistry.registerDataset(
      artifact(server, 'digits_golden.safetensors', 'Safetensors'), 540, 'BSD-3-Clause', null));
    await send(api.tx.modelRegistry.registerModel(
      'digits-mlp', 'Classification', 'Apache-2.0', 'https://models.example.org/digits/card.md', [],
      { AtLeast: 900000000 }));
    await send(api.tx.modelRegistry.setEvaluationPlan(model, { golden: dataset, metric: 'Accuracy' }));
    await send(api.tx.modelRegistry.publishVersion(
      model, artifact(server, 'digits_mlp.onnx', 'Onnx'), 'Initial', [], null, [], []));

    const job = await until(async () => {
      const v = await api.query.modelRegistry.versions(version);
      return v.isSome && v.unwrap().scoringJob.isSome ? v.unwrap().scoringJob.unwrap().toNumber() : undefined;
    }, 'the scoring job', 120000);
    const result = await until(async () => {
      const r = await api.query.scoring.results(job);
      return r.isSome ? r.unwrap() : undefined;
    }, `job ${job} to conclude`, 300000);

    const expected = JSON.parse(fs.readFileSync(path.join(fixtures, 'reference.json'))).digits_mlp.accuracy.ppb;
    if (!result.outcome.isScored || result.outcome.asScored.toString() !== String(expected)) {
      throw new Error(`job ${job} concluded with ${result.outcome.toString()}, expected Scored(${expected})`);
    }
    const status = (await api.query.modelRegistry.versions(version)).unwrap().status;
    if (!status.isValidated) throw new Error(`version ${version} is ${status.toString()}`);
    return result.reveals.toNumber();
  } finally {
    server.close();
    await api.disconnect();
  }
}

module.exports = { run };
