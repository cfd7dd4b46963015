// The whole flow on a dev node, with real fixtures and the validator's offchain worker doing the scoring.
// The base version of a model with an evaluation plan is scored by the validator and made canonical by a
// promotion referendum. Then a federated training round: two honest updates and one poisoned update (the
// base's weights scrambled by the fixture generator). The poisoned one is slashed into the round's pot, the
// honest ones are accepted, and the FedAvg aggregate built by scripts/aggregate.py is recomputed by the
// validator, verified and published as a validated version. Every amount is checked exactly, and the round
// is read through the runtime API with no custom types. The round's settlement is then recomputed from the
// documented formula, and every contributor, the data owner and the validator claim exactly their rewards.
// Last, a referendum promotes the aggregate, and "which version was canonical at block N" answers both.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { artifactOf, reference, serveFixtures } from '../lib/artifacts.js';
import {
  checkStorageDecodes, connect, devAccounts, eventData, rpcCall, sendAndInclude, waitUntil,
} from '../lib/chain.js';
import { passReferendum } from '../lib/governance.js';
import { startNode } from '../lib/node.js';

const UNIT = 10n ** 12n;
const STAKE = 10n * UNIT;
const POT = 100n * UNIT;
const UPDATE_DEPOSIT = UNIT / 10n;

describe('training rounds', () => {
  let node;
  let api;
  let server;
  let accounts;

  before(async () => {
    server = await serveFixtures();
    node = await startNode({ chain: 'dev' });
    api = await connect(node.wsUrl);
    accounts = devAccounts();
  });

  after(async () => {
    if (api) await api.disconnect();
    if (node) await node.stop();
    if (server) await server.close();
  });

  const served = (name, format) => artifactOf(name, server.url(`/files/${name}`), format);

  /** Resolves with `read()`'s value once `done(value)` holds, checking every new block; fails after `blocks`. */
  const waitFor = (what, blocks, read, done) => waitUntil(api, {
    what, blocks, read, done, context: () => node.logs().slice(-4000),
  });

  const free = async (who) => (await api.query.system.account(who.address)).data.free.toBigInt();
  /** Held amounts by `pallet.reason`, lower case (e.g. `trainingrounds.stake`). */
  const holds = async (who) => {
    const out = {};
    for (const hold of await api.query.balances.holds(who.address)) {
      const id = hold.id.toJSON();
      const [pallet] = Object.keys(id);
      out[`${pallet}.${id[pallet]}`.toLowerCase()] = hold.amount.toBigInt();
    }
    return out;
  };

  test('the whole flow: scored base promoted by referendum, a round with a poisoned update, the verified aggregate, rewards claimed, the aggregate promoted', async () => {
    const { alice, bob, charlie, dave, eve, ferdie } = accounts;
    const ref = reference();

    // Alice owns the model; Bob owns the two training datasets the contributors declare.
    const register = async (signer, name, samples) => {
      const { events } = await sendAndInclude(api, api.tx.modelRegistry.registerDataset(
        served(name, 'Safetensors'), samples, 'BSD-3-Clause', null,
      ), signer);
      return eventData(events, 'modelRegistry', 'DatasetRegistered').dataset.toNumber();
    };
    const golden = await register(alice, 'digits_golden.safetensors', 540);
    const shardA = await register(bob, 'diabetes_golden.safetensors', 700);
    const shardB = await register(bob, 'bad_dataset_label_count.safetensors', 400);

    const modelEvents = (await sendAndInclude(api, api.tx.modelRegistry.registerModel(
      'digits-federated', 'Classification', 'Apache-2.0', 'https://models.example.org/digits/card.md', [],
      { AtLeast: 0 },
    ), alice)).events;
    const model = eventData(modelEvents, 'modelRegistry', 'ModelRegistered').model.toNumber();
    // The validators score every version of the model on the golden set.
    await sendAndInclude(api, api.tx.modelRegistry.setEvaluationPlan(model, { golden, metric: 'Accuracy' }), alice);
    const baseEvents = (await sendAndInclude(api, api.tx.modelRegistry.publishVersion(
      model, served('round_base.onnx', 'Onnx'), 'Initial', [], null, [], [],
    ), alice)).events;
    const base = eventData(baseEvents, 'modelRegistry', 'VersionPublished').version.toNumber();
    const baseStatus = await waitFor('the base version scored by the validator', 40,
      async () => (await api.query.modelRegistry.versions(base)).unwrap().status, (st) => !st.isCandidate);
    assert.ok(baseStatus.isValidated, `base: ${baseStatus.toString()}`);
    assert.equal(baseStatus.asValidated.score.toBigInt(), BigInt(ref.round_base.accuracy.ppb));
    // Governance makes it canonical: a referendum on the model promotion track.
    const canonical = async () => {
      const details = (await api.call.modelRegistryApi.model(model)).unwrap();
      return details.canonical.isSome ? details.canonical.unwrap().toNumber() : null;
    };
    const referendum = (call, enacted) => passReferendum(api, {
      call, origin: { Governance: 'ModelPromotion' }, enacted, voters: [alice, bob, charlie],
      context: () => node.logs().slice(-3000),
    });
    const basePromotion = await referendum(api.tx.modelRegistry.setCanonical(model, base),
      async () => (await canonical()) === base);
    assert.ok(basePromotion.result.isOk, `enactment: ${basePromotion.result.toString()}`);
    const baseLiveAt = (await api.rpc.chain.getHeader()).number.toNumber();

    // The round: FedAvg, at least one point better than the base, slashed when five points worse.
    const params = {
      golden,
      metric: 'Accuracy',
      minImprovement: 10_000_000,
      tolerance: 50_000_000,
      rule: 'FedAvg',
      stake: STAKE,
      maxUpdates: 4,
      submissionBlocks: 15,
      aggregationBlocks: 15,
    };
    const openEvents = (await sendAndInclude(
      api, api.tx.trainingRounds.openRound(model, null, params, POT), alice,
    )).events;
    const opened = eventData(openEvents, 'trainingRounds', 'RoundOpened');
    const round = opened.round.toNumber();
    assert.equal(opened.base.toNumber(), base);
    assert.equal((await holds(alice))['trainingrounds.pot'], POT);

    // Contributors join (stake held, datasets declared) in this order, so update ids ascend as the
    // fixture aggregate combines them; then each submits its weights (one record, nothing held).
    const samples = ref.round.samples;
    const feeOf = (events) => eventData(events, 'transactionPayment', 'TransactionFeePaid').actualFee.toBigInt();
    const submit = async (signer, file, count, datasets) => {
      const joined = await sendAndInclude(api, api.tx.trainingRounds.joinRound(round, datasets), signer);
      const id = eventData(joined.events, 'trainingRounds', 'RoundJoined').update.toNumber();
      assert.equal((await api.query.trainingRounds.updates(id)).unwrap().state.toString(), 'Joined');
      const { events } = await sendAndInclude(api, api.tx.trainingRounds.submitUpdate(
        round, served(file, 'Onnx'), count,
      ), signer);
      const submitted = eventData(events, 'trainingRounds', 'UpdateSubmitted');
      assert.equal(submitted.update.toNumber(), id);
      return { id, fee: feeOf(joined.events) + feeOf(events) };
    };
    const before = { charlie: await free(charlie), dave: await free(dave), eve: await free(eve) };
    const { id: a, fee: feeA } = await submit(charlie, 'round_update_a.onnx', samples.round_update_a, [shardA]);
    const { id: b, fee: feeB } = await submit(dave, 'round_update_b.onnx', samples.round_update_b, [shardB]);
    const { id: poisoned, fee: feeP } = await submit(
      eve, 'round_update_poisoned.onnx', samples.round_update_a, [shardA],
    );
    assert.equal((await holds(eve))['trainingrounds.stake'], STAKE);

    // The updates wait for the end of the submission window, then the validator scores them (commit
    // 10 blocks, reveal 5, then concluded).
    const stateOf = async (id) => (await api.query.trainingRounds.updates(id)).unwrap().state;
    assert.ok((await stateOf(a)).isSubmitted);
    const states = await waitFor('every update judged', 60, async () => Promise.all([a, b, poisoned].map(stateOf)),
      (s) => s.every((state) => !state.isSubmitted && !state.isScoring && !state.isScored));
    const [stateA, stateB, stateP] = states;
    assert.ok(stateA.isAccepted, `update a: ${stateA.toString()}`);
    assert.equal(stateA.asAccepted.toBigInt(), BigInt(ref.round_update_a.accuracy.ppb));
    assert.ok(stateB.isAccepted, `update b: ${stateB.toString()}`);
    assert.equal(stateB.asAccepted.toBigInt(), BigInt(ref.round_update_b.accuracy.ppb));
    assert.ok(stateP.isSlashed, `poisoned update: ${stateP.toString()}`);
    assert.equal(stateP.asSlashed.asBelowFloor.toBigInt(), BigInt(ref.round_update_poisoned.accuracy.ppb));

    let info = (await api.query.trainingRounds.rounds(round)).unwrap();
    assert.equal(info.baseScore.asScored.toBigInt(), BigInt(ref.round_base.accuracy.ppb));
    // Exact accounting: honest stakes are back (deposits held), the poisoned stake is in the pot.
    assert.equal(await free(charlie), before.charlie - UPDATE_DEPOSIT - feeA);
    assert.equal(await free(dave), before.dave - UPDATE_DEPOSIT - feeB);
    assert.equal(await free(eve), before.eve - STAKE - UPDATE_DEPOSIT - feeP);
    assert.equal(info.pot.toBigInt(), POT + STAKE);
    assert.equal((await holds(alice))['trainingrounds.pot'], POT + STAKE);
    assert.equal((await holds(eve))['trainingrounds.stake'] ?? 0n, 0n);
    assert.equal((await holds(eve))['trainingrounds.deposit'], UPDATE_DEPOSIT);

    // Once the submission window is over, Ferdie submits the FedAvg aggregate scripts/aggregate.py built.
    await waitFor('the submission window to end', 30, async () => (await api.rpc.chain.getHeader()).number.toNumber(),
      (n) => n >= info.submissionEnd.toNumber());
    await sendAndInclude(api, api.tx.trainingRounds.submitAggregate(
      round, served('round_aggregate_fedavg.onnx', 'Onnx'),
    ), ferdie);
    info = await waitFor('the aggregate verified', 30,
      async () => (await api.query.trainingRounds.rounds(round)).unwrap(), (r) => r.state.isFinished);
    assert.ok(info.state.asFinished.isAggregated, `outcome: ${info.state.toString()}`);
    const version = info.state.asFinished.asAggregated.toNumber();
    const published = (await api.query.modelRegistry.versions(version)).unwrap();
    assert.ok(published.kind.isAggregate);
    assert.deepEqual(published.parents.map((p) => p.toNumber()), [base]);
    assert.deepEqual(published.datasets.map((d) => d.toNumber()), [shardA, shardB]);
    assert.equal(published.publisher.toString(), ferdie.address);
    assert.equal(published.status.asValidated.score.toBigInt(), BigInt(ref.round_aggregate_fedavg.accuracy.ppb));
    assert.equal((await holds(ferdie))['trainingrounds.stake'] ?? 0n, 0n);

    // The runtime API returns the same records, decoded from metadata alone.
    const viaApi = (await api.call.trainingRoundsApi.round(round)).unwrap();
    assert.ok(viaApi.state.asFinished.isAggregated);
    const updates = await api.call.trainingRoundsApi.updates(round);
    assert.deepEqual(updates.map(([id]) => id.toNumber()), [a, b, poisoned]);
    assert.ok(updates[2][1].state.isSlashed);
    // And the node's `trainingRounds_*` RPC as plain JSON.
    const json = await rpcCall(api, 'trainingRounds_round', [round]);
    assert.deepEqual(json.state, { status: 'aggregated', version });
    assert.equal(json.pot, (POT + STAKE).toString());
    assert.equal(json.rule, 'fedAvg');
    const jsonUpdates = await rpcCall(api, 'trainingRounds_updates', [round]);
    assert.deepEqual(jsonUpdates.map((u) => u.state.status), ['accepted', 'accepted', 'slashed']);
    assert.equal(jsonUpdates[2].state.reason, 'belowFloor');
    assert.equal(jsonUpdates[0].contributor, charlie.address);

    // Rewards. The round settled in the block that verified the aggregate (the scoring pallet's
    // on_initialize, before that block's emission). The documented formula, with the runtime's
    // parameters, recomputed here from what the chain recorded:
    const settledAt = await findEvent('rewards', 'RoundSettled', (d) => d.round.toNumber() === round, 60);
    const settled = settledAt.data;
    const header = await api.rpc.chain.getHeader(settledAt.hash);
    const reserveBefore = (await api.query.rewards.reserve.at(header.parentHash)).toBigInt();
    const perbill = (parts) => (x) => (x * parts) / 1_000_000_000n;
    const tenPercent = perbill(100_000_000n);
    const twentyPercent = perbill(200_000_000n);
    // Pot with the slash, and a tenth of the emission reserve.
    assert.equal(settled.pot.toBigInt(), POT + STAKE);
    const emission = tenPercent(reserveBefore);
    assert.ok(emission > 0n, 'the emission reserve tops the round up');
    assert.equal(settled.emission.toBigInt(), emission);
    const total = POT + STAKE + emission;
    // Alice, the only validator, scored all five jobs (base, three updates, aggregate) at the median:
    // the whole validator share (10 %) is hers, nothing forfeited.
    const validators = tenPercent(total);
    assert.equal(settled.validators.toBigInt(), validators);
    assert.equal(settled.forfeited.toBigInt(), 0n);
    // The accepted updates share the rest by (score − base) × samples; 20 % of each goes to Bob, the
    // owner of the dataset it declared. The poisoned update and the aggregator earn nothing.
    const gain = (name) => BigInt(ref[name].accuracy.ppb) - BigInt(ref.round_base.accuracy.ppb);
    const wA = gain('round_update_a') * BigInt(samples.round_update_a);
    const wB = gain('round_update_b') * BigInt(samples.round_update_b);
    const forContributors = total - validators;
    const shareA = (forContributors * wA) / (wA + wB);
    const shareB = (forContributors * wB) / (wA + wB);
    const dataA = twentyPercent(shareA);
    const dataB = twentyPercent(shareB);
    const expected = {
      charlie: shareA - dataA,
      dave: shareB - dataB,
      bob: dataA + dataB,
      alice: validators,
      eve: 0n,
      ferdie: 0n,
    };
    assert.equal(settled.compute.toBigInt(), expected.charlie + expected.dave);
    assert.equal(settled.dataOwners.toBigInt(), expected.bob);
    assert.equal(settled.dust.toBigInt(), total - expected.charlie - expected.dave - expected.bob - validators);
    for (const [name, amount] of Object.entries(expected)) {
      const who = accounts[name];
      // The runtime API (decoded from metadata) and the RPC's JSON agree.
      assert.equal((await api.call.rewardsApi.pending(who.address)).toBigInt(), amount, `${name}'s pending rewards`);
      const viaRpc = await rpcCall(api, 'rewards_pending', [who.address]);
      assert.deepEqual(viaRpc, { account: who.address, pending: amount.toString() });
    }
    // Each claims exactly its amount, once.
    for (const name of ['charlie', 'dave', 'bob', 'alice']) {
      const who = accounts[name];
      const balanceBefore = await free(who);
      const { events } = await sendAndInclude(api, api.tx.rewards.claimRewards(who.address), who);
      const fee = eventData(events, 'transactionPayment', 'TransactionFeePaid').actualFee.toBigInt();
      assert.equal(eventData(events, 'rewards', 'RewardsClaimed').amount.toBigInt(), expected[name]);
      assert.equal(await free(who), balanceBefore + expected[name] - fee, `${name} was paid exactly`);
      await assert.rejects(
        sendAndInclude(api, api.tx.rewards.claimRewards(who.address), who), /rewards\.NothingToClaim/,
      );
    }
    await assert.rejects(
      sendAndInclude(api, api.tx.rewards.claimRewards(eve.address), eve), /rewards\.NothingToClaim/,
    );

    // Governance promotes the aggregate; the canonical history answers for both versions.
    const aggregatePromotion = await referendum(api.tx.modelRegistry.setCanonical(model, version),
      async () => (await canonical()) === version);
    assert.ok(aggregatePromotion.result.isOk, `enactment: ${aggregatePromotion.result.toString()}`);
    const aggregateLiveAt = (await api.rpc.chain.getHeader()).number.toNumber();
    const canonicalAt = async (n) => {
      const at = await api.call.modelRegistryApi.canonicalAt(model, n);
      return at.isSome ? at.unwrap().toNumber() : null;
    };
    assert.equal(await canonicalAt(baseLiveAt), base, `canonical at block ${baseLiveAt}`);
    assert.equal(await canonicalAt(aggregateLiveAt), version, `canonical at block ${aggregateLiveAt}`);

    // Everything the flow stored decodes from metadata alone and encodes back to the stored bytes.
    const stored = await checkStorageDecodes(api);
    for (const [item, least] of Object.entries({
      'modelRegistry.models': 1, 'modelRegistry.versions': 2, 'modelRegistry.canonicalHistory': 2,
      'modelRegistry.datasets': 3, 'scoring.results': 1, 'trainingRounds.rounds': 1,
      'trainingRounds.updates': 3, 'rewards.reserve': 1, 'referenda.referendumInfoFor': 2,
    })) {
      assert.ok((stored[item] ?? 0) >= least, `${item}: ${stored[item] ?? 0} entries checked, at least ${least} expected`);
    }
  });

  /** The newest event `section.method` whose data satisfies `pred`, within the last `blocks` blocks. */
  async function findEvent(section, method, pred, blocks) {
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    for (let n = best; n >= Math.max(0, best - blocks); n -= 1) {
      const hash = await api.rpc.chain.getBlockHash(n);
      for (const { event } of await api.query.system.events.at(hash)) {
        if (event.section === section && event.method === method && pred(event.data)) {
          return { hash, data: event.data };
        }
      }
    }
    throw new Error(`${section}.${method} not found in the last ${blocks} blocks`);
  }
});
