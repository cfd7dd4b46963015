// Referenda through the real client: the path a user takes to promote a model version or roll a model back.
import assert from 'node:assert/strict';

import { eventData, sendAndInclude, waitUntil } from './chain.js';

const UNIT = 10n ** 12n;

/** The newest named `scheduler.Dispatched` event in the last `blocks` blocks: a referendum's enactment. */
export async function lastEnactment(api, blocks) {
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  for (let n = best; n >= Math.max(0, best - blocks); n -= 1) {
    const events = await api.query.system.events.at(await api.rpc.chain.getBlockHash(n));
    // Referenda name their enactments; their alarms are anonymous.
    const found = events.find(({ event }) => event.section === 'scheduler' && event.method === 'Dispatched'
      && event.data.id.isSome);
    if (found) return found.event.data;
  }
  return null;
}

/**
 * Submits `call` as a referendum dispatched by `origin` (e.g. `{ Governance: 'ModelPromotion' }`) with an
 * inline proposal, places the decision deposit (the second voter), has every voter vote aye with 500 000
 * MDL at 1x conviction, waits until it is approved and then until `enacted()` holds. Returns the
 * referendum's index, its track and the enactment's dispatch result.
 */
export async function passReferendum(api, { call, origin, voters, enacted, context = () => '' }) {
  const submitted = await sendAndInclude(api, api.tx.referenda.submit(
    origin, { Inline: call.method.toHex() }, { After: 1 },
  ), voters[0]);
  const { index, track } = eventData(submitted.events, 'referenda', 'Submitted');
  await sendAndInclude(api, api.tx.referenda.placeDecisionDeposit(index), voters[1] ?? voters[0]);
  for (const voter of voters) {
    await sendAndInclude(api, api.tx.convictionVoting.vote(index, {
      Standard: { vote: { aye: true, conviction: 'Locked1x' }, balance: 500_000n * UNIT },
    }), voter);
  }
  const info = await waitUntil(api, {
    what: `referendum ${index} decided`,
    blocks: 30,
    read: async () => (await api.query.referenda.referendumInfoFor(index)).unwrap(),
    done: (i) => !i.isOngoing,
    context,
  });
  assert.ok(info.isApproved, `referendum ${index}: ${info.type}`);
  await waitUntil(api, { what: `referendum ${index} enacted`, blocks: 10, read: enacted, done: (ok) => ok, context });
  const dispatched = await lastEnactment(api, 10);
  assert.ok(dispatched, 'the scheduler dispatched the proposal');
  return { index: index.toNumber(), track: track.toNumber(), result: dispatched.result };
}
