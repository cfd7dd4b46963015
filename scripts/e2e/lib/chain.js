// Small helpers over @polkadot/api shared by the end-to-end tests.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const providers = new WeakMap();

/** Connects @polkadot/api with no custom types: everything must decode from metadata. */
export async function connect(wsUrl) {
  await cryptoWaitReady();
  const provider = new WsProvider(wsUrl, 1000);
  const api = await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true });
  providers.set(api, provider);
  return api;
}

/** Calls a node RPC method that polkadot.js has no decoration for (e.g. `modelRegistry_*`): plain JSON. */
export function rpcCall(api, method, params) {
  return providers.get(api).send(method, params);
}

export function devAccounts() {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  return {
    alice: keyring.addFromUri('//Alice'),
    bob: keyring.addFromUri('//Bob'),
    charlie: keyring.addFromUri('//Charlie'),
    dave: keyring.addFromUri('//Dave'),
    eve: keyring.addFromUri('//Eve'),
    ferdie: keyring.addFromUri('//Ferdie'),
  };
}

/** Resolves when `predicate(header)` holds for a new best (or finalized) header, or rejects at the deadline. */
export function waitForHeader(api, { finalized = false, timeoutMs, predicate }) {
  return new Promise((resolve, reject) => {
    let unsub = null;
    const timer = setTimeout(() => {
      if (unsub) unsub();
      reject(new Error(`no ${finalized ? 'finalized' : 'best'} header matched within ${timeoutMs} ms`));
    }, timeoutMs);
    const subscribe = finalized ? api.rpc.chain.subscribeFinalizedHeads : api.rpc.chain.subscribeNewHeads;
    subscribe((header) => {
      if (predicate(header)) {
        clearTimeout(timer);
        if (unsub) unsub();
        resolve(header);
      }
    }).then((u) => { unsub = u; });
  });
}

/** The data of the first `section.method` event among `events`; throws when there is none. */
export function eventData(events, section, method) {
  const found = events.find(({ event }) => event.section === section && event.method === method);
  if (!found) throw new Error(`no ${section}.${method} event among ${events.map(({ event }) => `${event.section}.${event.method}`).join(', ')}`);
  return found.event.data;
}

/**
 * Signs and sends `tx`, resolves at inclusion with { blockHash, events } of this extrinsic only;
 * rejects with the decoded module error when it fails.
 */
export function sendAndInclude(api, tx, signer, { timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    let unsub = null;
    const timer = setTimeout(() => {
      if (unsub) unsub();
      reject(new Error(`transaction not included within ${timeoutMs} ms`));
    }, timeoutMs);
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (!status.isInBlock) return;
      clearTimeout(timer);
      if (unsub) unsub();
      if (dispatchError) {
        if (dispatchError.isModule) {
          const { section, name } = api.registry.findMetaError(dispatchError.asModule);
          reject(new Error(`${section}.${name}`));
        } else {
          reject(new Error(dispatchError.toString()));
        }
        return;
      }
      resolve({ blockHash: status.asInBlock, events });
    }).then((u) => { unsub = u; }, (e) => { clearTimeout(timer); reject(e); });
  });
}

/**
 * Resolves with `read()`'s value once `done(value)` holds, checking at every new best block; rejects
 * when `blocks` blocks pass without it (with `context()` in the message, e.g. the node's log tail).
 */
export async function waitUntil(api, { what, blocks, read, done, context = () => '' }) {
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  return new Promise((resolve, reject) => {
    let unsub = null;
    let busy = false;
    let settled = false;
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      if (unsub) unsub();
      fn(value);
    };
    const check = async (header) => {
      if (busy || settled) return;
      busy = true;
      try {
        const value = await read();
        if (done(value)) finish(resolve, value);
        else if (header.number.toNumber() > start + blocks) {
          finish(reject, new Error(`${what}: not within ${blocks} blocks\n${context()}`));
        }
      } finally {
        busy = false;
      }
    };
    api.rpc.chain.subscribeNewHeads((header) => { check(header).catch((e) => finish(reject, e)); })
      .then((u) => { if (settled) u(); else unsub = u; });
  });
}

/**
 * Reads every storage entry of every pallet at the best block, decoded from metadata alone, and checks
 * that each value encodes back to exactly the bytes the node stores (`state_getStorage`, plain JSON): a
 * type the metadata describes differently from what the runtime writes fails here, even where it would
 * decode without an error. Returns the number of entries checked, by `section.item`.
 */
export async function checkStorageDecodes(api) {
  const hash = await api.rpc.chain.getBlockHash();
  const at = await api.at(hash);
  const counts = {};
  const mismatches = [];
  const check = async (name, key, value, optional) => {
    const raw = await rpcCall(api, 'state_getStorage', [key, hash.toHex()]);
    counts[name] = (counts[name] ?? 0) + 1;
    if (raw === null) {
      // Absent: an optional entry reads as `None`, a value entry as its default.
      if (optional && !value.isNone) mismatches.push(`${name} ${key}: absent but read as ${value.toString()}`);
      return;
    }
    const decoded = optional ? value.unwrap() : value;
    const encoded = u8aToHex(decoded.toU8a());
    if (encoded !== raw) mismatches.push(`${name} ${key}: stored ${raw}, decoded and encoded again ${encoded}`);
  };
  // `substrate` is the well-known keys (`:code` is the raw runtime), not a pallet's storage.
  for (const section of Object.keys(at.query).filter((s) => s !== 'substrate')) {
    for (const [item, entry] of Object.entries(at.query[section])) {
      const { meta } = entry.creator;
      const optional = meta.modifier.isOptional;
      const name = `${section}.${item}`;
      if (meta.type.isPlain) {
        await check(name, entry.key(), await entry(), optional);
      } else {
        for (const [key, value] of await entry.entries()) await check(name, key.toHex(), value, optional);
      }
    }
  }
  if (mismatches.length > 0) throw new Error(`storage that does not decode as its metadata says:\n${mismatches.join('\n')}`);
  return counts;
}
