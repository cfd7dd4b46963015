// Throughput of modelchain's extrinsics against `balances.transferKeepAlive` on one dev node, in one run.
//
// For each kind, every extrinsic is signed before any is sent (immortal, explicit nonces), then all are
// sent at once and each block's inclusions are counted from the chain. The figure is the mean number of
// successful extrinsics of that kind per *saturated* block: a block that started after the last one was
// accepted by the pool and after which some were still waiting. It also reports why blocks filled up: the
// share of the block's normal weight used, and what the runtime's weights allow per block.
//
//   node bench/throughput.js [--transfers N] [--updates N] [--contributors N] [--commits N] [--json FILE]
//
// Run through scripts/bench/throughput.sh, which builds the node and sets up @polkadot/api first.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';

import { connect, devAccounts, eventData, rpcCall, sendAndInclude, waitForHeader } from '../lib/chain.js';
import { startNode } from '../lib/node.js';

const UNIT = 10n ** 12n;
const SENDERS = 63; // With Alice, the dev genesis scorer: MaxScorers (64) for the commit phase.
const MAX_UPDATES = 16; // Contributors per round (the runtime's MaxUpdates).
const MAX_ROUNDS_ENDING = 8; // Rounds whose submission windows end in one block (the runtime's MaxRoundsEnding).
const UPDATE_ROUNDS = 63; // Most rounds the update phase opens: 1,008 places, each sender in 16 rounds.
// The pool holds every pre-signed extrinsic; offchain workers are off, so nothing but the load runs.
const POOL_ARGS = ['--offchain-worker', 'never', '--pool-limit', '100000', '--pool-kbytes', '1000000'];

const { values: options } = parseArgs({
  options: {
    transfers: { type: 'string', default: '12000' },
    updates: { type: 'string', default: '6048' },
    // Places (contributor, round) the updates are sent from; at most 63 rounds × 16.
    contributors: { type: 'string', default: '1008' },
    commits: { type: 'string', default: '1512' },
    json: { type: 'string' },
    // The 4-validator `local` network instead of one dev node: block time and finality lag, idle and
    // under full blocks of transfers.
    network: { type: 'boolean', default: false },
    'idle-blocks': { type: 'string', default: '10' },
  },
});

/** Empty blocks in a row after which the extrinsics not yet included are taken as lost. */
const STALL_BLOCKS = 20;

function log(...args) {
  console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...args);
}

/** Sends pre-signed extrinsics (hex) with bounded concurrency; resolves when the pool accepted all. */
async function submitAll(api, signed, { raw = false, concurrency = 64 } = {}) {
  let next = 0;
  const errors = [];
  const worker = async () => {
    while (next < signed.length) {
      const hex = signed[next++];
      try {
        // General (v5) transactions go through the provider as they are: @polkadot/api 16.5 wraps an
        // Extrinsic built from a GeneralExtrinsic in a second length prefix and version byte.
        if (raw) await rpcCall(api, 'author_submitExtrinsic', [hex]);
        else await api.rpc.author.submitExtrinsic(hex);
      } catch (e) {
        errors.push(e.message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (errors.length) throw new Error(`${errors.length} refused by the pool, e.g. ${errors[0]}`);
}

/**
 * Counts, block by block, the extrinsics calling `section.method` and how many succeeded, until `total`
 * were included. `submit()` sends them; blocks are recorded from the one after the current best.
 */
async function measure(api, { label, section, method, total, submit }) {
  const normalMax = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt();
  // The best chain's blocks by number. The best head can move by several blocks at once (a node imports
  // a peer's blocks faster than it announces them) or to another fork, so each new head is followed back
  // to the recorded chain: skipped blocks are recorded, and an abandoned fork's are replaced.
  const records = new Map();
  let included = 0;
  let submittedAt = null;
  let done;
  let fail;
  const finished = new Promise((resolve, reject) => { done = resolve; fail = reject; });
  // Blocks in a row, after the submission, that included none: the rest will not be included.
  let idleRun = 0;
  const queue = [];
  let busy = false;
  // Set once every extrinsic is counted: heads arriving later are not inspected, and the caller waits
  // for the inspection under way, so that no RPC call is left in flight when the client disconnects.
  let stopped = false;
  const inspect = async (header, finalizedAtArrival) => {
    const hash = header.hash;
    const [block, events, weight, moment] = await Promise.all([
      api.rpc.chain.getBlock(hash),
      api.query.system.events.at(hash),
      api.query.system.blockWeight.at(hash),
      api.query.timestamp.now.at(hash),
    ]);
    const failed = new Set();
    for (const { phase, event } of events) {
      if (phase.isApplyExtrinsic && api.events.system.ExtrinsicFailed.is(event)) {
        failed.add(phase.asApplyExtrinsic.toNumber());
      }
    }
    let count = 0;
    let ok = 0;
    block.block.extrinsics.forEach((ext, index) => {
      if (ext.method.section === section && ext.method.method === method) {
        count += 1;
        if (!failed.has(index)) ok += 1;
      }
    });
    const used = weight.normal.refTime.toBigInt();
    return {
      number: header.number.toNumber(),
      hash: hash.toHex(),
      timestamp: moment.toNumber(),
      finalityLag: Math.max(0, header.number.toNumber() - finalizedAtArrival),
      count,
      ok,
      normalWeightShare: Number((used * 10000n) / normalMax) / 10000,
      afterSubmission: submittedAt !== null && header.number.toNumber() > submittedAt,
    };
  };
  const drain = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      await drainQueue();
    } catch (e) {
      if (!stopped) fail(e);
    } finally {
      busy = false;
    }
  };
  const drainQueue = async () => {
    while (queue.length && !stopped) {
      const { header, finalizedAtArrival } = queue.shift();
      const best = header.number.toNumber();
      const missing = [];
      for (let h = header; h.number.toNumber() > startBest && records.get(h.number.toNumber())?.hash !== h.hash.toHex();) {
        missing.unshift(h);
        h = await api.rpc.chain.getHeader(h.parentHash);
      }
      for (const [number, old] of records) {
        if (number > best) { included -= old.count; records.delete(number); }
      }
      for (const h of missing) {
        const rec = await inspect(h, finalizedAtArrival);
        const old = records.get(rec.number);
        if (old) {
          included -= old.count;
          log(`${label}: block #${rec.number} ${old.hash.slice(0, 10)} left the best chain`);
        }
        records.set(rec.number, rec);
        included += rec.count;
        log(`${label}: block #${rec.number} ${rec.count} included (${rec.ok} ok), normal weight ${(rec.normalWeightShare * 100).toFixed(1)} %`);
        idleRun = rec.count > 0 || !rec.afterSubmission ? 0 : idleRun + 1;
      }
      if (included >= total) done();
      else if (idleRun >= STALL_BLOCKS) {
        fail(new Error(`${label}: ${total - included} of ${total} not included after ${STALL_BLOCKS} empty blocks`));
      }
    }
  };
  let finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  const unsubFinal = await api.rpc.chain.subscribeFinalizedHeads((h) => { finalized = h.number.toNumber(); });
  // Only blocks built from now on: the subscription first delivers the current best block.
  const startBest = (await api.rpc.chain.getHeader()).number.toNumber();
  const unsub = await api.rpc.chain.subscribeNewHeads((header) => {
    if (header.number.toNumber() <= startBest) return;
    queue.push({ header, finalizedAtArrival: finalized });
    drain();
  });
  const started = Date.now();
  await submit();
  submittedAt = (await api.rpc.chain.getHeader()).number.toNumber();
  const submitSeconds = (Date.now() - started) / 1000;
  log(`${label}: ${total} accepted by the pool in ${submitSeconds.toFixed(1)} s (best #${submittedAt})`);
  await finished;
  stopped = true;
  unsub();
  unsubFinal();
  while (busy) await new Promise((resolve) => { setTimeout(resolve, 50); });
  const blocks = [...records.values()].sort((a, b) => a.number - b.number);
  // Saturated: after the submission ended, and before the last block with some (the pool still had
  // some left). An empty block in between counts: the node did not fill it although it could have.
  const last = blocks.filter((b) => b.count > 0).at(-1).number;
  const saturated = blocks.filter((b) => b.afterSubmission && b.number < last);
  const mean = saturated.length
    ? saturated.reduce((s, b) => s + b.ok, 0) / saturated.length
    : null;
  const failures = blocks.reduce((s, b) => s + (b.count - b.ok), 0);
  // Block times and finality lags while the pool was never empty: from the first inclusion to the last.
  const first = blocks.findIndex((b) => b.count > 0);
  const loaded = timing(blocks.slice(Math.max(0, first - 1)).filter((b) => b.number <= last));
  const emptySaturated = saturated.filter((b) => b.count === 0).length;
  return { label, total, failures, submitSeconds, blocks, saturatedBlocks: saturated.length, emptySaturated, perBlock: mean, loaded };
}

/** Records `count` new best blocks with no load: their timestamps and finality lags. */
async function observe(api, count) {
  const blocks = [];
  let finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  const unsubFinal = await api.rpc.chain.subscribeFinalizedHeads((h) => { finalized = h.number.toNumber(); });
  await new Promise((resolve) => {
    let unsub = null;
    api.rpc.chain.subscribeNewHeads(async (header) => {
      const lag = header.number.toNumber() - finalized;
      const moment = await api.query.timestamp.now.at(header.hash);
      blocks.push({ number: header.number.toNumber(), timestamp: moment.toNumber(), finalityLag: lag });
      log(`idle: block #${header.number}, finality lag ${lag}`);
      if (blocks.length >= count) { if (unsub) unsub(); resolve(); }
    }).then((u) => { unsub = u; });
  });
  unsubFinal();
  return timing(blocks);
}

/** Starts Alice, Bob, Charlie and Dave as the `local` network's validators; resolves with their handles. */
async function startLocalNetwork() {
  const key = () => randomBytes(32).toString('hex');
  const alice = await startNode({ chain: 'local', extraArgs: ['--alice', '--node-key', key(), ...POOL_ARGS] });
  const aliceApi = await connect(alice.wsUrl);
  const peerId = (await rpcCall(aliceApi, 'system_localPeerId', [])).toString();
  const bootnode = `/ip4/127.0.0.1/tcp/${alice.p2pPort}/p2p/${peerId}`;
  const others = [];
  for (const name of ['--bob', '--charlie', '--dave']) {
    others.push(await startNode({ chain: 'local', extraArgs: [name, '--node-key', key(), '--bootnodes', bootnode, ...POOL_ARGS] }));
  }
  return { api: aliceApi, nodes: [alice, ...others] };
}

/** Block times (ms, from `timestamp.now`) and finality lags (blocks) of `blocks` consecutive records. */
function timing(blocks) {
  const sorted = (xs) => [...xs].sort((a, b) => a - b);
  const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
  const intervals = [];
  for (let i = 1; i < blocks.length; i++) {
    if (blocks[i].number === blocks[i - 1].number + 1) intervals.push(blocks[i].timestamp - blocks[i - 1].timestamp);
  }
  const lags = blocks.map((b) => b.finalityLag);
  return {
    blocks: blocks.length,
    blockTimeMedianMs: intervals.length ? median(intervals) : null,
    blockTimeMaxMs: intervals.length ? Math.max(...intervals) : null,
    finalityLagMedian: median(lags),
    finalityLagMax: Math.max(...lags),
  };
}

/** Signs every extrinsic of `plan` ([{ tx, signer, nonce }]) up front: immortal, explicit nonces. */
async function presign(api, plan) {
  const out = [];
  for (const { tx, signer, nonce } of plan) {
    const signed = await tx.signAsync(signer, { nonce, era: 0 });
    out.push(signed.toHex());
  }
  return out;
}

/** What the runtime's weights allow per block: the normal class's limit over one extrinsic's weight. */
async function weightBound(api, tx, signer) {
  const info = await tx.paymentInfo(signer);
  const base = api.consts.system.blockWeights.perClass.normal.baseExtrinsic.refTime.toBigInt();
  const normalMax = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt();
  const weight = info.weight.refTime.toBigInt();
  return { weight: Number(weight), perBlock: Number(normalMax / (weight + base)) };
}

async function main() {
  const transfers = Number(options.transfers);
  const updates = Number(options.updates);
  const commits = Number(options.commits);
  let nodes;
  let api;
  if (options.network) {
    ({ api, nodes } = await startLocalNetwork());
  } else {
    nodes = [await startNode({ chain: 'dev', extraArgs: POOL_ARGS })];
    api = await connect(nodes[0].wsUrl);
  }
  try {
    const { alice, bob } = devAccounts();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const senders = Array.from({ length: SENDERS }, (_, i) => keyring.addFromUri(`//bench//${i}`));
    const nonces = new Map();
    const nonceOf = async (pair) => {
      if (!nonces.has(pair.address)) {
        nonces.set(pair.address, (await api.rpc.system.accountNextIndex(pair.address)).toNumber());
      }
      const n = nonces.get(pair.address);
      nonces.set(pair.address, n + 1);
      return n;
    };
    const settle = async (plan, label) => {
      const signed = await presign(api, plan);
      const result = await measure(api, {
        label, section: plan[0].tx.method.section, method: plan[0].tx.method.method, total: signed.length,
        submit: () => submitAll(api, signed),
      });
      if (result.failures) throw new Error(`${label}: ${result.failures} failed`);
    };

    const results = {};
    const bounds = {};
    const report = () => {
      const summary = { bounds, results: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { ...v, blocks: undefined }])) };
      console.log(JSON.stringify(summary, null, 2));
      if (options.json) writeFileSync(options.json, JSON.stringify({ bounds, results }, null, 2));
    };
    if (options.network) {
      // Every validator authors and votes before the figures start.
      await waitForHeader(api, { finalized: true, timeoutMs: 300_000, predicate: (h) => h.number.toNumber() >= 8 });
      results.idle = await observe(api, Number(options['idle-blocks']));
    }

    // Setup (not measured): fund the senders.
    log('setup: funding senders');
    const fund = [];
    for (const s of senders) {
      fund.push({ tx: api.tx.balances.transferKeepAlive(s.address, 5_000n * UNIT), signer: alice, nonce: await nonceOf(alice) });
    }
    await settle(fund, 'setup');
    /** `count` extrinsics `txOf(i)`, signed round-robin by the senders, then measured as `label`. */
    const signedBySenders = async (label, count, txOf) => {
      bounds[label] = await weightBound(api, txOf(0), senders[0]);
      const plan = [];
      for (let i = 0; i < count; i++) {
        const signer = senders[i % SENDERS];
        plan.push({ tx: txOf(i), signer, nonce: await nonceOf(signer) });
      }
      log(`${label}: signing ${count}`);
      const signed = await presign(api, plan);
      const { section, method } = plan[0].tx.method;
      results[label] = await measure(api, { label, section, method, total: count, submit: () => submitAll(api, signed) });
    };

    // 1. transferKeepAlive: each sender sends its share to Bob.
    await signedBySenders('transferKeepAlive', transfers,
      (i) => api.tx.balances.transferKeepAlive(bob.address, UNIT + BigInt(i)));

    if (options.network) {
      report();
      return;
    }

    // Setup (not measured): register a dataset and a validated model version.
    // Every sender is also a scorer (100 MDL stake), for the commit phase.
    const scorers = [];
    for (const s of senders) {
      scorers.push({ tx: api.tx.scoring.registerScorer(u8aToHex(s.publicKey), 100n * UNIT), signer: s, nonce: await nonceOf(s) });
    }
    await settle(scorers, 'setup');
    const digest = () => u8aToHex(randomBytes(32));
    const artifact = (name) => ({ uri: `https://models.example.org/bench/${name}`, digest: digest(), size: 1_000_000, format: 'Onnx' });
    const event = (events, method) => eventData(events, 'modelRegistry', method);
    const dataset = event((await sendAndInclude(api, api.tx.modelRegistry.registerDataset(
      { ...artifact('data.safetensors'), format: 'Safetensors' }, 1_000_000, 'CC0-1.0', null), bob)).events,
    'DatasetRegistered').dataset.toNumber();
    nonces.delete(bob.address);
    const model = event((await sendAndInclude(api, api.tx.modelRegistry.registerModel(
      'bench', 'Classification', 'Apache-2.0', 'https://models.example.org/bench/card.md', [], { AtLeast: 0 }), alice)).events,
    'ModelRegistered').model.toNumber();
    const version = event((await sendAndInclude(api, api.tx.modelRegistry.publishVersion(
      model, artifact('base.onnx'), 'Initial', [], null, [], []), alice)).events, 'VersionPublished').version.toNumber();
    await sendAndInclude(api, api.tx.sudo.sudo(api.tx.modelRegistry.reportEvaluation(version, { Validated: 500_000_000 })), alice);
    nonces.delete(alice.address);


    // 2. submitUpdate. The senders join rounds of MAX_UPDATES contributors (each sender at most once a
    //    round; measured too, as joinRound), then send `updates` updates round-robin over those places:
    //    a place's later updates replace its earlier ones, the same call writing the same one record.
    //    Everything is signed before the rounds open: a round's base job concludes unscored 15 blocks
    //    after it opens (offchain workers are off), which finishes the round.
    const places = Math.min(updates, Number(options.contributors), UPDATE_ROUNDS * MAX_UPDATES);
    const rounds = Math.ceil(places / MAX_UPDATES);
    const roundParams = (r) => ({
      golden: dataset, metric: 'Accuracy', minImprovement: 0, tolerance: 0, rule: 'FedAvg', stake: 10n * UNIT,
      maxUpdates: MAX_UPDATES, submissionBlocks: 1_000 + Math.floor(r / MAX_ROUNDS_ENDING), aggregationBlocks: 1_000,
    });
    const firstRound = (await api.query.trainingRounds.nextRoundId()).toNumber();
    const placeOf = (p) => ({ round: firstRound + Math.floor(p / MAX_UPDATES), signer: senders[p % SENDERS] });
    const openPlan = [];
    for (let r = 0; r < rounds; r++) {
      openPlan.push({ tx: api.tx.trainingRounds.openRound(model, version, roundParams(r), UNIT), signer: alice, nonce: await nonceOf(alice) });
    }
    const joinTx = (p) => api.tx.trainingRounds.joinRound(placeOf(p).round, [dataset]);
    const updateTx = (k) => api.tx.trainingRounds.submitUpdate(placeOf(k % places).round, artifact(`u${k}.onnx`), 1_000);
    const joinPlan = [];
    for (let p = 0; p < places; p++) joinPlan.push({ tx: joinTx(p), signer: placeOf(p).signer, nonce: await nonceOf(placeOf(p).signer) });
    const updatePlan = [];
    for (let k = 0; k < updates; k++) {
      const { signer } = placeOf(k % places);
      updatePlan.push({ tx: updateTx(k), signer, nonce: await nonceOf(signer) });
    }
    log(`updates: signing ${rounds} round openings, ${places} joins and ${updates} updates`);
    const [signedOpens, signedJoins, signedUpdates] = [await presign(api, openPlan), await presign(api, joinPlan), await presign(api, updatePlan)];
    log(`updates: opening ${rounds} rounds`);
    const opened = await measure(api, {
      label: 'setup', section: 'trainingRounds', method: 'openRound', total: rounds, submit: () => submitAll(api, signedOpens),
    });
    if (opened.failures) throw new Error(`openRound: ${opened.failures} failed`);
    // Weights as quoted once the rounds exist (a join reads its round).
    bounds.joinRound = await weightBound(api, joinTx(0), senders[0]);
    bounds.submitUpdate = await weightBound(api, updateTx(0), senders[0]);
    results.joinRound = await measure(api, {
      label: 'joinRound', section: 'trainingRounds', method: 'joinRound', total: places, submit: () => submitAll(api, signedJoins),
    });
    results.submitUpdate = await measure(api, {
      label: 'submitUpdate', section: 'trainingRounds', method: 'submitUpdate', total: updates, submit: () => submitAll(api, signedUpdates),
    });

    // Fresh jobs for the commits: rounds opened now, whose base jobs are in their commit window.
    const commitRounds = Math.ceil(commits / SENDERS);
    const commitOpens = [];
    for (let r = 0; r < commitRounds; r++) {
      commitOpens.push({ tx: api.tx.trainingRounds.openRound(model, version, roundParams(rounds + r), UNIT), signer: alice, nonce: await nonceOf(alice) });
    }
    log(`commits: opening ${commitRounds} rounds for their base jobs`);
    await settle(commitOpens, 'setup');

    // 3. commitScore: fee-less general transactions, each authorized by a scorer's signature over
    //    ("mdl/commit", job, commitment). Every sender is a scorer (registered in the setup); each
    //    commits on the newest jobs (the bases of the rounds just opened), inside their commit window.
    const open = (await api.query.scoring.openJobs()).map((j) => j.toNumber());
    const jobs = open.slice(-Math.ceil(commits / SENDERS));
    const commitTx = (job, scorer) => {
      const commitment = u8aToHex(blake2AsU8a(randomBytes(32)));
      const payload = new Uint8Array([
        ...new TextEncoder().encode('mdl/commit'),
        ...api.createType('u64', job).toU8a(),
        ...api.createType('H256', commitment).toU8a(),
      ]);
      return api.tx.scoring.commitScore(job, commitment, u8aToHex(scorer.publicKey), u8aToHex(scorer.sign(payload)));
    };
    /** A general (version 5) transaction: no signer, the call carries its own authorization. */
    const general = (call) => api.registry.createType('Extrinsic', {
      payload: { method: call.method.toHex(), era: '0x00', nonce: 0, tip: 0, mode: 0 },
      transactionExtensionVersion: 0,
    }, { version: 5, preamble: 'general' }).inner.toHex();
    bounds.commitScore = await weightBound(api, commitTx(jobs[0], senders[0]), senders[0]);
    log(`commits: signing ${jobs.length * SENDERS} on jobs ${jobs[0]}..${jobs.at(-1)}`);
    const signedCommits = [];
    for (const job of jobs) for (const scorer of senders) signedCommits.push(general(commitTx(job, scorer)));
    results.commitScore = await measure(api, {
      label: 'commitScore', section: 'scoring', method: 'commitScore', total: signedCommits.length,
      submit: () => submitAll(api, signedCommits, { raw: true }),
    });

    report();
  } finally {
    await api.disconnect();
    for (const node of nodes) await node.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
