// Governance through the real client on a dev node: a model promotion referendum (submitted with an
// inline proposal, decision deposit placed, voted with conviction) is confirmed and enacted by the
// scheduler, and the new canonical version is read through the runtime API; then a rollback referendum on
// the faster track returns the model to its previous version. Everything is decoded from metadata alone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { connect, devAccounts, eventData, sendAndInclude } from '../lib/chain.js';
import { passReferendum } from '../lib/governance.js';
import { startNode } from '../lib/node.js';

const UNIT = 10n ** 12n;

describe('governance', () => {
  let node;
  let api;
  let accounts;

  before(async () => {
    node = await startNode({ chain: 'dev' });
    api = await connect(node.wsUrl);
    accounts = devAccounts();
  });

  after(async () => {
    if (api) await api.disconnect();
    if (node) await node.stop();
  });

  async function sudo(call) {
    const { events } = await sendAndInclude(api, api.tx.sudo.sudo(call), accounts.alice);
    assert.ok(eventData(events, 'sudo', 'Sudid').sudoResult.isOk);
  }

  const canonical = async (model) => {
    const details = (await api.call.modelRegistryApi.model(model)).unwrap();
    return details.canonical.isSome ? details.canonical.unwrap().toNumber() : null;
  };

  const referendum = (call, origin, enacted) => passReferendum(api, {
    call, origin, enacted, voters: [accounts.alice, accounts.bob, accounts.charlie],
    context: () => node.logs().slice(-3000),
  });

  test('a promotion referendum makes a version canonical; a rollback referendum undoes it', async () => {
    const { alice } = accounts;
    // A model with two validated versions; the first is canonical.
    const model = eventData((await sendAndInclude(api, api.tx.modelRegistry.registerModel(
      'digits-governed', 'Classification', 'MIT', 'https://models.example.org/card.md', [], { AtLeast: 0 },
    ), alice)).events, 'modelRegistry', 'ModelRegistered').model.toNumber();
    const publish = async (seed, kind, parents) => eventData((await sendAndInclude(api,
      api.tx.modelRegistry.publishVersion(model, {
        uri: `https://models.example.org/${seed}.onnx`, digest: `0x${seed.repeat(64)}`, size: 1000, format: 'Onnx',
      }, kind, parents, null, [], []), alice)).events, 'modelRegistry', 'VersionPublished').version.toNumber();
    const first = await publish('1', 'Initial', []);
    const second = await publish('2', 'FineTune', [first]);
    await sudo(api.tx.modelRegistry.reportEvaluation(first, { Validated: 800_000_000 }));
    await sudo(api.tx.modelRegistry.reportEvaluation(second, { Validated: 900_000_000 }));
    await sudo(api.tx.modelRegistry.setCanonical(model, first));
    assert.equal(await canonical(model), first);

    // Nobody promotes alone any more.
    await assert.rejects(
      sendAndInclude(api, api.tx.modelRegistry.setCanonical(model, second), alice), /BadOrigin/,
    );

    // The promotion track (id 1) decides it.
    const tracks = api.consts.referenda.tracks.map(
      ([id, info]) => [id.toNumber(), info.name.toString().replace(/\0+$/, '')],
    );
    assert.deepEqual(tracks, [[0, 'root'], [1, 'model_promotion'], [2, 'model_rollback']]);
    const promotion = await referendum(
      api.tx.modelRegistry.setCanonical(model, second), { Governance: 'ModelPromotion' },
      async () => (await canonical(model)) === second,
    );
    assert.equal(promotion.track, 1);
    assert.ok(promotion.result.isOk, `enactment: ${promotion.result.toString()}`);
    assert.equal(await canonical(model), second);
    // The voters' balances are locked by conviction voting, not spent.
    const locks = await api.query.balances.locks(alice.address);
    assert.ok(locks.some((l) => l.id.toHuman() === 'pyconvot' && l.amount.toBigInt() === 500_000n * UNIT));

    // The rollback track (id 2) returns the model to its last verified version.
    const rollback = await referendum(
      api.tx.modelRegistry.rollback(model), { Governance: 'ModelRollback' },
      async () => (await canonical(model)) === first,
    );
    assert.equal(rollback.track, 2);
    assert.ok(rollback.result.isOk, `enactment: ${rollback.result.toString()}`);
    assert.equal(await canonical(model), first);
  });
});
