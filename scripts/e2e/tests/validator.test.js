// A new operator joins the dev network as a validator, exactly as the README's "Run a validator" says:
// a second node (`--chain dev --validator`) generates its session keys (`author_rotateKeysWithOwner`),
// Dave sets them (`session.setKeys` with the ownership proof), registers as a scorer with the scoring key
// (his stake is his bond; registered with another key, joining is refused) and joins the validator set. From a later session he is in `session.validators`
// and his node authors blocks; finality goes on with both validators voting. Then he leaves, and his stake
// stays bonded until the unbonding sessions have passed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  checkStorageDecodes, connect, devAccounts, rpcCall, sendAndInclude, waitUntil,
} from '../lib/chain.js';
import { startNode } from '../lib/node.js';

const UNIT = 10n ** 12n;
const BOND = 2_000n * UNIT;

describe('validator onboarding', () => {
  let alice;
  let newcomer;
  let api;
  let newcomerApi;
  let accounts;

  before(async () => {
    alice = await startNode({ chain: 'dev' });
    api = await connect(alice.wsUrl);
    accounts = devAccounts();
    const peerId = await rpcCall(api, 'system_localPeerId', []);
    newcomer = await startNode({
      chain: 'dev',
      peer: true,
      extraArgs: [
        '--validator',
        // A validator needs a persistent network identity; a fixed one is enough for a test.
        '--node-key', randomBytes(32).toString('hex'),
        '--bootnodes', `/ip4/127.0.0.1/tcp/${alice.p2pPort}/p2p/${peerId}`,
      ],
    });
    newcomerApi = await connect(newcomer.wsUrl);
  });

  after(async () => {
    for (const client of [newcomerApi, api]) if (client) await client.disconnect();
    for (const node of [newcomer, alice]) if (node) await node.stop();
  });

  const context = () => `alice:\n${alice.logs().slice(-2000)}\nnewcomer:\n${newcomer.logs().slice(-2000)}`;
  const validators = async () => (await api.query.session.validators()).map((v) => v.toString());

  test('a new account joins as a validator and authors blocks from a later session', async () => {
    const { dave } = accounts;
    // The new node syncs the dev chain.
    await waitUntil(newcomerApi, {
      what: 'the new node syncs', blocks: 30, context,
      read: async () => (await newcomerApi.rpc.chain.getHeader()).number.toNumber(),
      done: (n) => n >= 3,
    });
    assert.deepEqual(await validators(), [accounts.alice.address]);

    // 1. Session keys generated in the new node's keystore, with the proof that Dave owns them.
    const owner = `0x${Buffer.from(dave.publicKey).toString('hex')}`;
    const generated = await rpcCall(newcomerApi, 'author_rotateKeysWithOwner', [owner]);
    const keys = generated.keys;
    // aura (32 bytes) ‖ grandpa (32) ‖ scoring (32)
    assert.equal(keys.length, 2 + 3 * 64);
    const scoringKey = `0x${keys.slice(2 + 128)}`;
    await sendAndInclude(api, api.tx.session.setKeys(keys, generated.proof), dave);
    // A scorer registered with another key than its session scoring key cannot join: its node would
    // author blocks but never sign a score.
    const otherKey = `0x${randomBytes(32).toString('hex')}`;
    await sendAndInclude(api, api.tx.scoring.registerScorer(otherKey, BOND), dave);
    await assert.rejects(
      sendAndInclude(api, api.tx.validatorSet.join(), dave), /validatorSet\.ScoringKeyMismatch/,
    );
    await sendAndInclude(api, api.tx.scoring.unregisterScorer(), dave);
    // 2. A scorer with the scoring key: its stake is its validator bond.
    await sendAndInclude(api, api.tx.scoring.registerScorer(scoringKey, BOND), dave);
    // 3. A candidate.
    const { events } = await sendAndInclude(api, api.tx.validatorSet.join(), dave);
    const joined = events.find(({ event }) => api.events.validatorSet.CandidateJoined.is(event));
    assert.ok(joined, 'validatorSet.CandidateJoined');
    assert.equal(joined.event.data.bond.toBigInt(), BOND);

    // From a later session, Dave validates (the larger bond first).
    const set = await waitUntil(api, {
      what: 'Dave in the validator set', blocks: 40, context, read: validators,
      done: (v) => v.includes(dave.address),
    });
    assert.deepEqual(set, [dave.address, accounts.alice.address]);
    // His node authors blocks: the author of a block is the validator whose turn its Aura slot is
    // (the slot in the header's pre-runtime digest, modulo the session's validators, in their order).
    const authorOfBest = async () => {
      const header = await api.rpc.chain.getHeader();
      const log = header.digest.logs.find((l) => l.isPreRuntime && l.asPreRuntime[0].toString() === 'aura');
      if (!log) return undefined;
      const slot = api.createType('u64', log.asPreRuntime[1]).toBigInt();
      const set = (await (await api.at(header.hash)).query.session.validators()).map((v) => v.toString());
      return set[Number(slot % BigInt(set.length))];
    };
    const authored = await waitUntil(api, {
      what: 'a block authored by Dave', blocks: 20, context,
      read: () => authorOfBest().catch(() => undefined),
      done: (author) => author === dave.address,
    });
    assert.equal(authored, dave.address);
    // Finality continues with both validators voting.
    const finalized = async () => (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead()))
      .number.toNumber();
    const start = await finalized();
    await waitUntil(api, {
      what: 'finality with two validators', blocks: 20, context, read: finalized, done: (n) => n >= start + 3,
    });

    // Leaving: out of the set from a later session; the stake stays bonded meanwhile.
    await sendAndInclude(api, api.tx.validatorSet.leave(), dave);
    await assert.rejects(
      sendAndInclude(api, api.tx.scoring.unregisterScorer(), dave), /scoring\.(StakeBonded|ScorerBusy)/,
    );
    await waitUntil(api, {
      what: 'Dave out of the validator set', blocks: 40, context, read: validators,
      done: (v) => !v.includes(dave.address),
    });

    // Everything stored decodes from metadata alone and encodes back to the stored bytes.
    const stored = await checkStorageDecodes(api);
    for (const item of ['validatorSet.unbonding', 'session.nextKeys', 'scoring.scorers']) {
      assert.ok(stored[item] >= 1, `${item}: ${stored[item] ?? 0} entries checked`);
    }
  });
});
