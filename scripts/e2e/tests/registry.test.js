// The model registry through the real client: register a model, publish two versions (the second derived
// from the first), validate and promote them with sudo, then ask "which version was canonical at block N"
// and "where does this version come from" through the runtime API (decoded from metadata alone) and
// through the node's JSON RPC. Every event is decoded by name.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { connect, devAccounts, rpcCall, sendAndInclude } from '../lib/chain.js';
import { startNode } from '../lib/node.js';

const sha256 = (text) => '0x' + createHash('sha256').update(text).digest('hex');

/** The events of one pallet, each with its name as decoded from metadata. */
function eventsOf(api, events, section) {
  return events
    .filter(({ event }) => event.section === section)
    .map(({ event }) => ({ name: event.method, event }));
}

describe('model registry', () => {
  let node;
  let api;
  let alice;

  before(async () => {
    node = await startNode({ chain: 'dev' });
    api = await connect(node.wsUrl);
    ({ alice } = devAccounts());
  });

  after(async () => {
    if (api) await api.disconnect();
    if (node) await node.stop();
  });

  async function blockNumberOf(hash) {
    return (await api.rpc.chain.getHeader(hash)).number.toNumber();
  }

  async function sudo(call) {
    const { events, blockHash } = await sendAndInclude(api, api.tx.sudo.sudo(call), alice);
    const sudid = events.find(({ event }) => api.events.sudo.Sudid.is(event));
    assert.ok(sudid, 'Sudid emitted');
    assert.ok(sudid.event.data.sudoResult.isOk, `sudo call failed: ${sudid.event.data.sudoResult.toString()}`);
    return { events, blockHash };
  }

  test('publish, validate, promote, and read the canonical history and lineage back', async () => {
    // 1. Register a model.
    const register = api.tx.modelRegistry.registerModel(
      'digits-mlp', 'Classification', 'Apache-2.0', 'https://models.example.org/digits/card.md',
      ['vision', 'digits'], { AtLeast: 900_000_000 },
    );
    const registered = await sendAndInclude(api, register, alice);
    const [modelRegistered] = eventsOf(api, registered.events, 'modelRegistry');
    assert.equal(modelRegistered.name, 'ModelRegistered');
    const modelId = modelRegistered.event.data.model.toNumber();
    assert.equal(modelRegistered.event.data.owner.toString(), alice.address);
    const deposit = modelRegistered.event.data.deposit.toBigInt();
    assert.ok(deposit > 0n, 'a deposit was held');
    const reserved = (await api.query.system.account(alice.address)).data.reserved.toBigInt();
    assert.ok(reserved >= deposit, 'the deposit is held from Alice');

    // 2. Publish two versions; the second fine-tunes the first.
    const artifact = (name, size) => ({
      uri: `ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgt${name}`,
      digest: sha256(name),
      size,
      format: 'Onnx',
    });
    const v1Tx = api.tx.modelRegistry.publishVersion(
      modelId, artifact('qya', 41_234), 'Initial', [], null, [], [['val_accuracy', 951_000_000]],
    );
    const v1Events = eventsOf(api, (await sendAndInclude(api, v1Tx, alice)).events, 'modelRegistry');
    assert.deepEqual(v1Events.map((e) => e.name), ['VersionPublished']);
    const v1 = v1Events[0].event.data.version.toNumber();
    assert.equal(v1Events[0].event.data.digest.toHex(), sha256('qya'));

    const v2Tx = api.tx.modelRegistry.publishVersion(
      modelId, artifact('qyb', 41_240), 'FineTune', [v1], sha256('hyperparams'), [], [],
    );
    const v2Events = eventsOf(api, (await sendAndInclude(api, v2Tx, alice)).events, 'modelRegistry');
    const v2 = v2Events[0].event.data.version.toNumber();
    assert.notEqual(v1, v2);

    // 3. Validate both (the scoring pallet does this later; sudo stands in for EvaluationOrigin).
    for (const [version, score] of [[v1, 951_000_000], [v2, 962_000_000]]) {
      const { events } = await sudo(api.tx.modelRegistry.reportEvaluation(version, { Validated: score }));
      const [validated] = eventsOf(api, events, 'modelRegistry');
      assert.equal(validated.name, 'VersionValidated');
      assert.equal(validated.event.data.version.toNumber(), version);
      assert.equal(validated.event.data.score.toNumber(), score);
    }

    // 4. Promote v1, then v2 (which deprecates v1).
    const first = await sudo(api.tx.modelRegistry.setCanonical(modelId, v1));
    const firstBlock = await blockNumberOf(first.blockHash);
    assert.deepEqual(eventsOf(api, first.events, 'modelRegistry').map((e) => e.name), ['CanonicalVersionSet']);
    const second = await sudo(api.tx.modelRegistry.setCanonical(modelId, v2));
    const secondBlock = await blockNumberOf(second.blockHash);
    const secondEvents = eventsOf(api, second.events, 'modelRegistry');
    assert.deepEqual(secondEvents.map((e) => e.name), ['VersionDeprecated', 'CanonicalVersionSet']);
    assert.equal(secondEvents[1].event.data.previous.unwrap().toNumber(), v1);

    // 5. The runtime API, called from metadata alone.
    const call = api.call.modelRegistryApi;
    assert.ok(call, 'ModelRegistryApi is in the metadata');
    assert.ok((await call.canonicalAt(modelId, firstBlock - 1)).isNone);
    assert.equal((await call.canonicalAt(modelId, firstBlock)).unwrap().toNumber(), v1);
    assert.equal((await call.canonicalAt(modelId, secondBlock - 1)).unwrap().toNumber(), v1);
    assert.equal((await call.canonicalAt(modelId, secondBlock)).unwrap().toNumber(), v2);
    assert.deepEqual((await call.lineage(v2)).map((id) => id.toNumber()), [v1]);
    assert.deepEqual((await call.versions(modelId, 0, 10)).map((id) => id.toNumber()), [v1, v2]);
    const model = (await call.model(modelId)).unwrap();
    assert.equal(model.canonical.unwrap().toNumber(), v2);
    assert.equal(model.name.toUtf8(), 'digits-mlp');
    const version2 = (await call.version(v2)).unwrap();
    assert.ok(version2.status.isCanonical);
    assert.equal(version2.status.asCanonical.score.toNumber(), 962_000_000);
    assert.equal(version2.artifact.uri.toUtf8(), artifact('qyb', 0).uri);
    assert.ok((await call.version(v1)).unwrap().status.isDeprecated);

    // 6. The same through the node's JSON RPC, with named fields.
    const rpc = (method, params) => rpcCall(api, `modelRegistry_${method}`, params);
    assert.equal(await rpc('canonicalAt', [modelId, firstBlock]), v1);
    assert.equal(await rpc('canonicalAt', [modelId, secondBlock]), v2);
    assert.equal(await rpc('canonicalAt', [modelId, firstBlock - 1]), null);
    assert.deepEqual(await rpc('lineage', [v2]), [v1]);
    const json = await rpc('version', [v2]);
    assert.equal(json.id, v2);
    assert.equal(json.kind, 'fineTune');
    assert.deepEqual(json.parents, [v1]);
    assert.deepEqual(json.status, { status: 'canonical', score: 962_000_000 });
    assert.equal(json.artifact.digest, sha256('qyb'));
    assert.equal(json.artifact.format, 'onnx');
    assert.equal(json.publisher, alice.address);
    const modelJson = await rpc('model', [modelId]);
    assert.equal(modelJson.name, 'digits-mlp');
    assert.deepEqual(modelJson.threshold, { atLeast: 900_000_000 });
    assert.equal(modelJson.canonical, v2);
    assert.equal(BigInt(modelJson.deposit), deposit);
    assert.equal(await rpc('model', [9_999]), null);
  });

  test('malformed input comes back as a named module error', async () => {
    const bad = api.tx.modelRegistry.registerModel(
      'x', 'Other', 'MIT', 'ftp://not-allowed/card', [], { AtLeast: 0 },
    );
    await assert.rejects(sendAndInclude(api, bad, alice), /modelRegistry\.BadUri/);
  });
});
