#!/usr/bin/env node
// Petrel compatibility driver for the kafkajs client (Node.js).
//
//   node driver.js --bootstrap HOST:PORT --scenario NAME --topic TOPIC
//
// Implements every scenario of ../SCENARIOS.md with the stock kafkajs Producer, Consumer
// and Admin, used the way an application would. Exit status: 0 pass, 1 fail (the differing
// checks are printed), 77 the client cannot do it (last stdout line `UNSUPPORTED: ...`).
//
// kafkajs specifics that shape this file (each is explained where it is used):
//  - kafkajs only ships gzip; snappy, lz4 and zstd come from codec plugins (package.json);
//  - kafkajs consumers are group members only (no assign()), so "assign + seek" reads use a
//    fresh single-member group per read plus consumer.seek() / admin offset look-ups;
//  - kafkajs has no IncrementalAlterConfigs, so `admin` uses the legacy AlterConfigs.
'use strict'

const crypto = require('crypto')
const {
  Kafka,
  logLevel,
  CompressionTypes,
  CompressionCodecs,
  Partitioners,
  ConfigResourceTypes,
  ConfigSource,
} = require('kafkajs')

const PARTITIONS = 6
const DRIVER_DEADLINE_MS = 85000 // the harness kills a run at 90 s; fail cleanly before that
const READ_WAIT_MS = 30000 // SCENARIOS.md: waits for expected records are bounded by 30 s
const GROUP_WAIT_MS = 45000 // SCENARIOS.md: group-rebalance waits are bounded by 45 s
const SETTLE_MS = 1000 // after the expected count arrived: time for duplicates to show up

// ---------------------------------------------------------------------------------------
// Outcome reporting

class Unsupported extends Error {}

let failures = 0
function check(ok, what, detail) {
  if (ok) {
    console.log(`ok    ${what}`)
  } else {
    failures++
    console.log(`FAIL  ${what}${detail === undefined ? '' : `: ${detail}`}`)
  }
  return ok
}
// A check whose failure makes the rest of the scenario meaningless.
function must(ok, what, detail) {
  if (!check(ok, what, detail)) throw new Error(`stopping: ${what}`)
}
function info(line) {
  console.log(`      ${line}`)
}
// Long problem lists (e.g. 1000 records all wrong) are cut so the log stays readable.
function checkProblems(problems, what) {
  check(problems.length === 0, what, problems.length === 0 ? undefined
    : `${problems.length} problem(s):\n        ${problems.slice(0, 15).join('\n        ')}` +
      (problems.length > 15 ? `\n        ... ${problems.length - 15} more` : ''))
}

// ---------------------------------------------------------------------------------------
// Compression codecs. Each one is wrapped in a counter so a produce-consume run proves the
// codec really was used on both paths (a run that silently sent uncompressed batches must
// not pass as "lz4"). A plugin that does not load marks its codec unsupported (exit 77).

const CODEC_TYPES = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}
const codecUse = {} // type -> { compress, decompress } call counts
const codecUnavailable = {} // type -> why the plugin could not be loaded

function counted(type, codec) {
  codecUse[type] = { compress: 0, decompress: 0 }
  return () => ({
    async compress(encoder) {
      codecUse[type].compress++
      return codec.compress(encoder)
    },
    async decompress(buffer) {
      codecUse[type].decompress++
      return codec.decompress(buffer)
    },
  })
}

function registerCodecs() {
  const plugins = [
    [CompressionTypes.GZIP, 'kafkajs (built in)', () => CompressionCodecs[CompressionTypes.GZIP]()],
    [CompressionTypes.Snappy, 'kafkajs-snappy', () => require('kafkajs-snappy')()],
    [CompressionTypes.LZ4, 'kafkajs-lz4', () => new (require('kafkajs-lz4'))().codec()],
    // The kafkajs-org plugin @kafkajs/zstd does not build on Node >= 20 (its native cppzst
    // dependency compiles as C++14 against headers that need C++17), and the other zstd
    // plugins fetch prebuilt binaries from GitHub. @mongodb-js/zstd 1.x ships its binary
    // inside npm packages, and the codec plugin API is just these two async functions.
    [CompressionTypes.ZSTD, '@mongodb-js/zstd', () => {
      const zstd = require('@mongodb-js/zstd')
      return {
        compress: encoder => zstd.compress(encoder.buffer),
        decompress: buffer => zstd.decompress(buffer),
      }
    }],
  ]
  for (const [type, pkg, load] of plugins) {
    try {
      CompressionCodecs[type] = counted(type, load())
    } catch (e) {
      codecUnavailable[type] = `codec plugin ${pkg} cannot be loaded (${e.message.split('\n')[0]})`
    }
  }
}

// ---------------------------------------------------------------------------------------
// Record conventions (SCENARIOS.md "Record conventions") and their verification.

const conventionKey = i => (i % 10 === 9 ? null : Buffer.from(`key-${i % 20}`))
const recordValue = i => (i % 7 === 6 ? null : Buffer.from(`value-${i}`))
function recordHeaders(i) {
  const headers = [['idx', Buffer.from(String(i))]]
  if (i % 5 === 0) headers.push(['empty', Buffer.alloc(0)]) // empty, not null
  return headers
}

// The kafkajs message for record i. kafkajs keeps header insertion order on the wire.
function recordMessage(i, { keyOf = conventionKey, partition, timestamp } = {}) {
  const message = { key: keyOf(i), value: recordValue(i), headers: Object.fromEntries(recordHeaders(i)) }
  if (partition !== undefined) message.partition = partition
  if (timestamp !== undefined) message.timestamp = String(timestamp)
  return message
}

// What the driver keeps of a consumed kafkajs message.
function toRecord(partition, message) {
  return {
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key,
    value: message.value,
    // kafkajs decodes headers into an object in wire order; a repeated key becomes an
    // array, which is flattened here so it shows up as an extra header.
    headers: Object.entries(message.headers || {}).flatMap(([k, v]) =>
      Array.isArray(v) ? v.map(x => [k, x]) : [[k, v]]),
    // Batch header fields (producer id, sequence) as kafkajs decoded them.
    batch: message.batchContext,
  }
}

const show = b => (b === null ? 'null' : b === undefined ? 'undefined' : JSON.stringify(b.toString('latin1')))
const sameBytes = (a, b) => (a === null || b === null ? a === b : Buffer.isBuffer(a) && a.equals(b))
const recordIndex = r => {
  const idx = r.headers.find(([k]) => k === 'idx')
  const text = idx && idx[1] ? idx[1].toString() : ''
  return /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : -1
}

// Differences between a consumed record and record i; empty when byte-exact.
function recordProblems(r, i, keyOf = conventionKey) {
  const where = `record ${i} (p${r.partition}@${r.offset})`
  const problems = []
  if (!sameBytes(r.key, keyOf(i))) problems.push(`${where}: key ${show(r.key)}, expected ${show(keyOf(i))}`)
  if (!sameBytes(r.value, recordValue(i))) problems.push(`${where}: value ${show(r.value)}, expected ${show(recordValue(i))}`)
  const want = recordHeaders(i)
  const same = r.headers.length === want.length &&
    want.every(([k, v], n) => r.headers[n][0] === k && sameBytes(r.headers[n][1], v))
  if (!same) {
    const fmt = hs => hs.map(([k, v]) => `${k}=${show(v)}`).join(', ')
    problems.push(`${where}: headers [${fmt(r.headers)}], expected [${fmt(want)}]`)
  }
  return problems
}

// Verifies that `records` are records 0..count-1, each exactly once and byte-exact, that
// within a partition i grows with the offset, and that each non-null key lives in exactly
// one partition. Returns the key -> partitions map for scenario-specific checks.
function verifyRecords(records, count, { keyOf = conventionKey, label = 'records' } = {}) {
  const problems = []
  const seen = new Map()
  for (const r of records) {
    const i = recordIndex(r)
    if (i < 0 || i >= count) {
      problems.push(`p${r.partition}@${r.offset}: no valid idx header (headers ${r.headers.map(([k]) => k)})`)
      continue
    }
    if (seen.has(i)) {
      const first = seen.get(i)
      problems.push(`record ${i} read more than once (p${first.partition}@${first.offset} and p${r.partition}@${r.offset})`)
      continue
    }
    seen.set(i, r)
    problems.push(...recordProblems(r, i, keyOf))
  }
  const missing = []
  for (let i = 0; i < count; i++) if (!seen.has(i)) missing.push(i)
  if (missing.length) problems.push(`${missing.length} record(s) never read: ${missing.slice(0, 20).join(' ')}`)
  checkProblems(problems, `${label}: all ${count} records read exactly once, byte-exact`)

  const order = []
  const byPartition = new Map()
  for (const [i, r] of seen) {
    if (!byPartition.has(r.partition)) byPartition.set(r.partition, [])
    byPartition.get(r.partition).push([r.offset, i])
  }
  for (const [p, list] of byPartition) {
    list.sort((a, b) => a[0] - b[0])
    for (let n = 1; n < list.length; n++) {
      if (list[n][1] <= list[n - 1][1]) {
        order.push(`p${p}: record ${list[n][1]} at offset ${list[n][0]} follows record ${list[n - 1][1]} at offset ${list[n - 1][0]}`)
      }
    }
  }
  checkProblems(order, `${label}: within each partition the record index increases with the offset`)

  const keyPartitions = new Map()
  for (const [i, r] of seen) {
    const key = keyOf(i)
    if (key === null) continue
    const k = key.toString()
    if (!keyPartitions.has(k)) keyPartitions.set(k, new Set())
    keyPartitions.get(k).add(r.partition)
  }
  const spread = [...keyPartitions].filter(([, ps]) => ps.size > 1).map(([k, ps]) => `${k} in partitions ${[...ps]}`)
  checkProblems(spread, `${label}: every non-null key is in exactly one partition`)
  info(`partitions used: ${[...byPartition.keys()].sort().map(p => `p${p}=${byPartition.get(p).length}`).join(' ')}`)
  return { keyPartitions, byPartition }
}

// ---------------------------------------------------------------------------------------
// Waiting and client plumbing

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const crashes = [] // consumer CRASH events: a crashed consumer fails the run at the next wait

async function waitFor(predicate, ms, what) {
  const deadline = Date.now() + ms
  for (;;) {
    if (crashes.length) throw new Error(`consumer crashed while waiting for ${what}: ${crashes[0].message}`)
    if (await predicate()) return true
    if (Date.now() >= deadline) return false
    await sleep(50)
  }
}

// Disconnects are bounded too: a stuck disconnect must not hold the run past the deadline.
async function bounded(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const clients = [] // everything connected, disconnected (in reverse) at exit
let kafka

function newProducer(options = {}) {
  const producer = kafka.producer({
    // The Java-compatible murmur2 partitioner (kafkajs 2.x default); passing it explicitly
    // just silences kafkajs's start-up warning about the v2 default change.
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    ...options,
  })
  clients.push(producer)
  return producer
}

async function newAdmin() {
  const admin = kafka.admin()
  clients.push(admin)
  await admin.connect()
  return admin
}

async function close(client) {
  const n = clients.indexOf(client)
  if (n >= 0) clients.splice(n, 1)
  await bounded(client.disconnect(), 15000, 'disconnect')
}

// Produces records `indices` in order, 100 per send() call (several produce requests,
// each awaited, so "produce order" is well defined). acks=all unless told otherwise.
async function produce(producer, topic, indices, { compression = CompressionTypes.None, ...messageOptions } = {}) {
  for (let n = 0; n < indices.length; n += 100) {
    const messages = indices.slice(n, n + 100).map(i => recordMessage(i, {
      ...messageOptions,
      timestamp: messageOptions.timestamp ? messageOptions.timestamp(i) : undefined,
    }))
    await producer.send({ topic, acks: -1, compression, messages })
  }
}

const range = (from, to) => Array.from({ length: to - from }, (_, n) => from + n)

// A consumer that joins group `groupId` subscribed to `topic` and records every message.
// kafkajs consumers are group members only (there is no assign()): where SCENARIOS.md says
// "assign all partitions and seek", the driver uses a fresh group (TOPIC-<suffix>) with this
// one member, so it is given every partition, and it starts at the earliest offset
// (fromBeginning, no committed offsets) or wherever consumer.seek() puts it.
// Auto-commit is off: offsets are committed only where a scenario says so.
async function startConsumer(topic, groupId, { fromBeginning = true, onMessage } = {}) {
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    heartbeatInterval: 1000, // notice rebalances within a second (default 3 s)
    maxWaitTimeInMs: 500, // short fetch long-polls keep every wait below responsive
  })
  clients.push(consumer)
  const state = { consumer, groupId, records: [], assignment: null, joins: 0, lastActivity: Date.now() }
  consumer.on(consumer.events.GROUP_JOIN, e => {
    state.assignment = [...(e.payload.memberAssignment[topic] || [])].sort((a, b) => a - b)
    state.joins++
    state.lastActivity = Date.now()
  })
  consumer.on(consumer.events.CRASH, e => crashes.push(e.payload.error))
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning })
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const record = toRecord(partition, message)
      state.lastActivity = Date.now()
      if (onMessage && onMessage(record, state) === false) return // the scenario declined it
      state.records.push(record)
    },
  })
  return state
}

const ALL_PARTITIONS = range(0, PARTITIONS)
const sameSet = (a, b) => a.length === b.length && a.every((x, n) => x === b[n])

// Joins a fresh single-member group, checks it owns all partitions, and waits for `count`
// records (then SETTLE_MS more, so duplicates would be caught too).
async function readAll(topic, count, suffix) {
  const reader = await startConsumer(topic, `${topic}-${suffix}`)
  await waitFor(() => reader.assignment !== null, READ_WAIT_MS, 'group join')
  must(reader.assignment !== null && sameSet(reader.assignment, ALL_PARTITIONS),
    `reader (group ${reader.groupId}) owns all ${PARTITIONS} partitions`, `owns ${reader.assignment}`)
  const got = await waitFor(() => reader.records.length >= count, READ_WAIT_MS, `${count} records`)
  check(got, `read ${count} records within ${READ_WAIT_MS / 1000} s`, `got ${reader.records.length}`)
  await sleep(SETTLE_MS)
  await close(reader.consumer)
  return reader.records
}

// kafkajs wraps broker errors (KafkaJSNonRetriableError, ...): find the protocol error.
function protocolError(e) {
  for (let cur = e, depth = 0; cur && depth < 10; depth++) {
    if (cur.type && typeof cur.type === 'string' && cur.name === 'KafkaJSProtocolError') return cur
    cur = cur.cause || cur.originalError || (cur.errors && cur.errors[0])
  }
  return null
}

// ---------------------------------------------------------------------------------------
// Scenarios

const scenarios = {}

scenarios.metadata = async ({ topic, host, port }) => {
  // Connecting is where kafkajs negotiates versions (ApiVersions) with the broker.
  const admin = await newAdmin()
  const cluster = await admin.describeCluster()
  info(`brokers ${JSON.stringify(cluster.brokers)} controller ${cluster.controller} cluster ${cluster.clusterId}`)
  must(cluster.brokers.length === 1, 'exactly one broker', `${cluster.brokers.length} brokers`)
  const broker = cluster.brokers[0]
  check(broker.host === host && broker.port === port, `broker address is ${host}:${port}`, `${broker.host}:${broker.port}`)

  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
  const t = topics.find(x => x.name === topic)
  must(t !== undefined, `topic ${topic} is listed`)
  const ids = t.partitions.map(p => p.partitionId).sort((a, b) => a - b)
  check(sameSet(ids, ALL_PARTITIONS), `topic has partitions 0..${PARTITIONS - 1}`, `partitions ${ids}`)
  const notLed = t.partitions.filter(p => p.leader !== broker.nodeId)
  check(notLed.length === 0, `every partition is led by broker ${broker.nodeId}`,
    notLed.map(p => `p${p.partitionId} leader ${p.leader}`).join(', '))
}

function produceConsume(codecName) {
  return async ({ topic }) => {
    const type = CODEC_TYPES[codecName]
    if (codecUnavailable[type]) throw new Unsupported(codecUnavailable[type])
    const producer = newProducer()
    await producer.connect()
    await produce(producer, topic, range(0, 1000), { compression: type })
    info(`produced records 0..999 with compression ${codecName}`)
    await close(producer)

    const records = await readAll(topic, 1000, 'read')
    verifyRecords(records, 1000)

    // The produced batches were compressed with this codec and came back compressed with it
    // (the consumer had to decompress them); no other codec was involved.
    for (const [t, use] of Object.entries(codecUse)) {
      const name = Object.keys(CODEC_TYPES).find(n => CODEC_TYPES[n] === Number(t))
      if (Number(t) === type) {
        check(use.compress > 0 && use.decompress > 0, `${name} codec used to produce and to consume`,
          `compress calls ${use.compress}, decompress calls ${use.decompress}`)
      } else {
        check(use.compress === 0 && use.decompress === 0, `${name} codec not involved`,
          `compress calls ${use.compress}, decompress calls ${use.decompress}`)
      }
    }
  }
}
for (const codec of Object.keys(CODEC_TYPES)) scenarios[`produce-consume-${codec}`] = produceConsume(codec)

scenarios['key-partitioning'] = async ({ topic }) => {
  const keyOf = i => Buffer.from(`k-${i % 30}`)
  for (let n = 0; n < 3; n++) {
    const producer = newProducer()
    await producer.connect()
    await produce(producer, topic, range(n * 200, n * 200 + 200), { keyOf })
    await close(producer)
    info(`producer ${n + 1} of 3 produced records ${n * 200}..${n * 200 + 199}`)
  }
  const records = await readAll(topic, 600, 'read')
  const { keyPartitions, byPartition } = verifyRecords(records, 600, { keyOf })
  check(keyPartitions.size === 30, 'all 30 keys were read', `${keyPartitions.size} keys`)
  check(byPartition.size >= 2, 'at least 2 partitions used', `${byPartition.size} used`)
}

scenarios['large-record'] = async ({ topic }) => {
  const producer = newProducer()
  await producer.connect()
  const admin = await newAdmin()
  const reader = await startConsumer(topic, `${topic}-read`)

  const big = crypto.randomBytes(190000)
  await producer.send({ topic, acks: -1, messages: [{ partition: 0, key: 'large', value: big }] })
  info('produced a 190,000-byte record to partition 0')
  const got = await waitFor(() => reader.records.length >= 1, READ_WAIT_MS, 'the large record')
  must(got, 'the 190,000-byte record is read back')
  const r = reader.records[0]
  check(r.partition === 0 && r.offset === 0, 'it is partition 0, offset 0', `p${r.partition}@${r.offset}`)
  check(sameBytes(r.value, big), 'its value is byte-exact', `${r.value && r.value.length} bytes, equal=${sameBytes(r.value, big)}`)

  // kafkajs has no client-side record or request size limit, so nothing pre-empts the broker.
  let refusal = null
  try {
    await producer.send({ topic, acks: -1, messages: [{ partition: 0, key: 'too-large', value: crypto.randomBytes(250000) }] })
  } catch (e) {
    refusal = e
  }
  const pe = protocolError(refusal)
  check(pe !== null && pe.type === 'MESSAGE_TOO_LARGE' && pe.code === 10,
    'the 250,000-byte record is refused with MESSAGE_TOO_LARGE (10)',
    refusal === null ? 'it was accepted' : pe ? `${pe.type} (${pe.code})` : `${refusal.name}: ${refusal.message}`)

  // The refused record must take no offset and never be readable: a small marker produced
  // next must land at offset 1 and be the very next record the reader sees.
  await producer.send({ topic, acks: -1, messages: [{ partition: 0, key: 'marker', value: 'after-refusal' }] })
  const marked = await waitFor(() => reader.records.length >= 2, READ_WAIT_MS, 'the marker record')
  await sleep(SETTLE_MS)
  const seen = reader.records.map(x => `p${x.partition}@${x.offset}(${x.value ? x.value.length : 'null'} bytes)`)
  check(marked && reader.records.length === 2 && reader.records[1].offset === 1 &&
    sameBytes(reader.records[1].value, Buffer.from('after-refusal')),
  'the refused record is not readable (the next record produced is offset 1)', seen.join(' '))
  const ends = await admin.fetchTopicOffsets(topic)
  const p0 = ends.find(p => p.partition === 0)
  check(p0.high === '2', 'partition 0 end offset is 2', `high ${p0.high}`)
}

// Produces records 0..99 to partition 0 (record i at offset i), optionally timestamped.
async function produceToPartition0(topic, timestamp) {
  const producer = newProducer()
  await producer.connect()
  await produce(producer, topic, range(0, 100), { partition: 0, timestamp })
  await close(producer)
  info('produced records 0..99 to partition 0')
}

// A reader positioned by consumer.seek(): it starts at the end (fromBeginning false, no
// committed offsets) so nothing arrives before the seek. kafkajs only accepts seek() once
// consumer.run() has started, and drops in-flight fetches for a partition being sought.
async function startSeekReader(topic, suffix) {
  const reader = await startConsumer(topic, `${topic}-${suffix}`, { fromBeginning: false })
  await waitFor(() => reader.assignment !== null, READ_WAIT_MS, 'group join')
  must(reader.assignment !== null && reader.assignment.includes(0), 'reader owns partition 0', `owns ${reader.assignment}`)
  return reader
}

scenarios['seek-offset'] = async ({ topic }) => {
  await produceToPartition0(topic)
  const reader = await startSeekReader(topic, 'seek')

  reader.consumer.seek({ topic, partition: 0, offset: '42' })
  const got = await waitFor(() => reader.records.some(r => r.offset === 99), READ_WAIT_MS, 'offset 99')
  await sleep(SETTLE_MS)
  const offsets = reader.records.map(r => r.offset)
  check(got && sameSet(offsets, range(42, 100)), 'after seek to 42 the reader reads offsets 42..99 in order',
    `read ${offsets.join(' ')}`)
  checkProblems(reader.records.flatMap(r => (r.partition === 0 ? recordProblems(r, r.offset) : [`read from p${r.partition}`])),
    'each of them is record <offset> (value-42..value-99)')

  // "The beginning" is the log start offset, which kafkajs exposes as the low watermark.
  // (Seeking to kafkajs's EARLIEST constant with auto-commit off just fetches offset 0.)
  const admin = await newAdmin()
  const low = (await admin.fetchTopicOffsets(topic)).find(p => p.partition === 0).low
  check(low === '0', 'partition 0 log start offset is 0', `low ${low}`)
  reader.records.length = 0
  reader.consumer.seek({ topic, partition: 0, offset: low })
  const again = await waitFor(() => reader.records.length > 0, READ_WAIT_MS, 'a record after seeking to the beginning')
  const first = reader.records[0]
  check(again && first.offset === 0 && recordProblems(first, 0).length === 0,
    'after seek to the beginning the first record is offset 0 (record 0)',
    first ? `p${first.partition}@${first.offset} ${recordProblems(first, 0).join('; ')}` : 'nothing read')
}

scenarios['seek-timestamp'] = async ({ topic }) => {
  const now = Date.now()
  const t0 = now - 3600 * 1000
  await produceToPartition0(topic, i => t0 + i * 1000)

  // admin.fetchTopicOffsetsByTimestamp is kafkajs's offsets-for-times (ListOffsets with a
  // timestamp). When the broker finds no offset (-1) kafkajs substitutes the partition's
  // end offset, so "no offset" shows up here as the end offset: 100 for partition 0, 0 for
  // the empty partitions.
  const admin = await newAdmin()
  const lookups = [
    [t0 + 42000, '42', 'T0 + 42000 -> 42'],
    [t0 + 41500, '42', 'T0 + 41500 -> 42'],
    [t0 - 5000, '0', 'T0 - 5000 -> 0'],
    [now + 3600 * 1000, '100', 'now + 1 hour -> none (kafkajs reports the end offset, 100)'],
  ]
  let found42 = null
  for (const [ts, want, what] of lookups) {
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, ts)
    const p0 = offsets.find(p => p.partition === 0)
    check(p0 && p0.offset === want, `offsets for time ${what}`, JSON.stringify(p0))
    const others = offsets.filter(p => p.partition !== 0 && p.offset !== '0')
    check(others.length === 0, `  empty partitions have no offset for that time`, JSON.stringify(others))
    if (ts === t0 + 42000 && p0) found42 = p0.offset
  }
  must(found42 !== null, 'an offset was found for T0 + 42000')

  const reader = await startSeekReader(topic, 'ts')
  reader.consumer.seek({ topic, partition: 0, offset: found42 })
  const got = await waitFor(() => reader.records.length > 0, READ_WAIT_MS, 'the record at the found offset')
  const first = reader.records[0]
  must(got, `a record is read after seeking to offset ${found42}`)
  check(recordProblems(first, 42).length === 0 && first.offset === 42, 'the first record is record 42 (value-42)',
    `p${first.partition}@${first.offset} ${recordProblems(first, 42).join('; ')}`)
  check(first.timestamp === t0 + 42000, 'its timestamp is T0 + 42000', `${first.timestamp} (T0 + ${first.timestamp - t0})`)
}

scenarios.admin = async ({ topic }) => {
  const admin = await newAdmin()
  const name = `${topic}-admin`
  const retentionOf = async () => {
    const { resources } = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms'] }],
      includeSynonyms: false,
    })
    return resources[0].configEntries.find(c => c.configName === 'retention.ms')
  }
  const partitionCount = async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [name] })
    return topics[0].partitions.length
  }

  const created = await admin.createTopics({
    topics: [{ topic: name, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
    timeout: 10000,
  })
  must(created === true, `create ${name} (3 partitions, retention.ms=3600000)`, `createTopics returned ${created}`)

  // kafkajs turns a create that fails only with TOPIC_ALREADY_EXISTS (36) into `false`;
  // any other error is thrown, and a create that succeeds again returns true.
  let again
  try {
    again = await admin.createTopics({ topics: [{ topic: name, numPartitions: 3 }], timeout: 10000 })
  } catch (e) {
    const pe = protocolError(e)
    again = pe ? `${pe.type} (${pe.code})` : `${e.name}: ${e.message}`
  }
  check(again === false, 'creating it again fails with TOPIC_ALREADY_EXISTS (36)', `got ${again}`)

  check((await admin.listTopics()).includes(name), 'list topics: it is there')
  check(await waitFor(async () => (await partitionCount()) === 3, 5000, '3 partitions'), 'describe: 3 partitions',
    `${await partitionCount()} partitions`)

  let entry = await retentionOf()
  check(entry && entry.configValue === '3600000' && entry.configSource === ConfigSource.TOPIC_CONFIG && !entry.isDefault,
    'describe configs: retention.ms = 3600000, a topic override', JSON.stringify(entry))

  // kafkajs has no IncrementalAlterConfigs; its alterConfigs is the legacy AlterConfigs,
  // which replaces the topic's whole override set (only retention.ms here).
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name, configEntries: [{ name: 'retention.ms', value: '7200000' }] }],
  })
  entry = await retentionOf()
  check(entry && entry.configValue === '7200000' && entry.configSource === ConfigSource.TOPIC_CONFIG,
    'after alter (legacy AlterConfigs): retention.ms = 7200000', JSON.stringify(entry))

  await admin.createPartitions({ topicPartitions: [{ topic: name, count: 5 }], timeout: 10000 })
  check(await waitFor(async () => (await partitionCount()) === 5, 5000, '5 partitions'), 'add partitions to 5; describe: 5',
    `${await partitionCount()} partitions`)

  await admin.deleteTopics({ topics: [name], timeout: 10000 })
  const gone = await waitFor(async () => !(await admin.listTopics()).includes(name), 10000, 'topic gone')
  check(gone, 'delete: the topic is no longer listed (within 10 s)')
}

scenarios['group-rebalance'] = async ({ topic }) => {
  const groupId = `${topic}-g`
  const fmt = s => (s.assignment === null ? 'not joined' : `[${s.assignment}]`)

  const a = await startConsumer(topic, groupId)
  let ok = await waitFor(() => a.assignment && sameSet(a.assignment, ALL_PARTITIONS), GROUP_WAIT_MS, 'A owns all')
  must(ok, `consumer A owns all ${PARTITIONS} partitions`, `A ${fmt(a)}`)

  const b = await startConsumer(topic, groupId)
  const split = () => {
    if (!a.assignment || !b.assignment || !a.assignment.length || !b.assignment.length) return false
    const union = [...new Set([...a.assignment, ...b.assignment])].sort((x, y) => x - y)
    return union.length === a.assignment.length + b.assignment.length && sameSet(union, ALL_PARTITIONS)
  }
  ok = await waitFor(split, GROUP_WAIT_MS, 'A and B split the partitions')
  must(ok, 'after B joins, A and B own disjoint non-empty sets covering all partitions', `A ${fmt(a)} B ${fmt(b)}`)
  info(`A ${fmt(a)} B ${fmt(b)}`)

  // disconnect() makes a kafkajs consumer leave the group (LeaveGroup).
  const joinsBefore = a.joins
  await close(b.consumer)
  ok = await waitFor(() => a.joins > joinsBefore && sameSet(a.assignment, ALL_PARTITIONS), GROUP_WAIT_MS, 'A owns all again')
  check(ok, `after B leaves, A owns all ${PARTITIONS} partitions again`, `A ${fmt(a)}`)
}

scenarios['commit-resume'] = async ({ topic }) => {
  const groupId = `${topic}-c`
  const producer = newProducer()
  await producer.connect()
  await produce(producer, topic, range(0, 100))
  await close(producer)
  info('produced records 0..99')

  // Commits, for each partition this consumer processed records of, the offset after the
  // last one. consumer.commitOffsets only works while the consumer is running.
  const commitProcessed = async state => {
    const next = new Map()
    for (const r of state.records) next.set(r.partition, Math.max(next.get(r.partition) || 0, r.offset + 1))
    const offsets = [...next].map(([partition, offset]) => ({ topic, partition, offset: String(offset) }))
    await state.consumer.commitOffsets(offsets)
    info(`${state.name} committed ${offsets.map(o => `p${o.partition}=${o.offset}`).join(' ')}`)
  }

  // C1 processes records until it has 40, then declines everything else kafkajs hands it
  // (those stay uncommitted, so C2 must get them) and pauses fetching.
  const c1 = await startConsumer(topic, groupId, {
    onMessage: (record, state) => {
      if (state.records.length >= 40) return false
      if (state.records.length === 39) state.consumer.pause([{ topic }])
      return true
    },
  })
  c1.name = 'C1'
  const got40 = await waitFor(() => c1.records.length >= 40, READ_WAIT_MS, 'C1 processing 40 records')
  must(got40, 'C1 processed 40 records', `${c1.records.length}`)
  await commitProcessed(c1)
  await close(c1.consumer)

  const c2 = await startConsumer(topic, groupId)
  c2.name = 'C2'
  await waitFor(() => c2.assignment !== null, READ_WAIT_MS, 'C2 join')
  must(c2.assignment !== null && sameSet(c2.assignment, ALL_PARTITIONS), 'C2 owns all partitions', `${c2.assignment}`)
  await waitFor(() => Date.now() - c2.lastActivity >= 5000, READ_WAIT_MS + 5000, 'C2 idle for 5 s')
  info(`C2 processed ${c2.records.length} records, then was idle for 5 s`)
  await commitProcessed(c2)
  await close(c2.consumer)

  // Both sets together are each record exactly once (duplicates across C1/C2 show up as
  // records read more than once).
  verifyRecords([...c1.records, ...c2.records], 100, { label: 'C1 + C2' })

  const admin = await newAdmin()
  const ends = await admin.fetchTopicOffsets(topic)
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
  const wrong = ends.flatMap(({ partition, high }) => {
    const c = committed.partitions.find(p => p.partition === partition)
    const offset = c ? c.offset : 'none'
    // An empty partition has nothing to commit: -1 (no offset) is right there.
    const right = offset === high || (high === '0' && offset === '-1')
    return right ? [] : [`p${partition}: committed ${offset}, end offset ${high}`]
  })
  checkProblems(wrong, `committed offsets of group ${groupId} (admin fetchOffsets) are each partition's end offset`)
}

scenarios.idempotence = async ({ topic }) => {
  // kafkajs's idempotent producer (acks=all, retries unbounded). maxInFlightRequests 5 is
  // allowed, though kafkajs itself serialises idempotent produce requests per broker.
  const producer = newProducer({ idempotent: true, maxInFlightRequests: 5 })
  await producer.connect()
  await produce(producer, topic, range(0, 2000))
  await close(producer)
  info('idempotent producer produced records 0..1999')

  const records = await readAll(topic, 2000, 'read')
  verifyRecords(records, 2000)

  // The batches carry the producer id and per-partition sequence numbers (one producer on
  // a fresh topic: the record at offset n has sequence n); a producer that was not really
  // idempotent writes producer id -1 and sequence -1.
  const bad = records.filter(r => !r.batch || r.batch.producerId === '-1' ||
    r.batch.firstSequence + (r.offset - Number(r.batch.firstOffset)) !== r.offset)
  checkProblems(bad.map(r => `p${r.partition}@${r.offset}: ${r.batch
    ? `producerId ${r.batch.producerId} firstSequence ${r.batch.firstSequence} firstOffset ${r.batch.firstOffset}` : 'no batch header'}`),
  'batches carry a producer id and sequence numbers matching the offsets')
}

// ---------------------------------------------------------------------------------------
// Main

function parseArgs(argv) {
  const args = {}
  for (let n = 0; n < argv.length; n += 2) {
    if (!['--bootstrap', '--scenario', '--topic'].includes(argv[n]) || argv[n + 1] === undefined) {
      throw new Error(`bad argument ${argv[n]}`)
    }
    args[argv[n].slice(2)] = argv[n + 1]
  }
  for (const k of ['bootstrap', 'scenario', 'topic']) if (!args[k]) throw new Error(`missing --${k}`)
  const m = /^(.*):(\d+)$/.exec(args.bootstrap)
  if (!m) throw new Error(`--bootstrap must be HOST:PORT, got ${args.bootstrap}`)
  return { ...args, host: m[1], port: Number(m[2]) }
}

async function main() {
  let args
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (e) {
    console.log(`usage: driver.js --bootstrap HOST:PORT --scenario NAME --topic TOPIC (${e.message})`)
    return 2
  }
  const scenario = scenarios[args.scenario]
  if (!scenario) {
    console.log(`unknown scenario ${args.scenario}; known: ${Object.keys(scenarios).join(' ')}`)
    return 2
  }
  // Not unref'd: if the run ever stalls, this timer is what ends it (as a failure).
  setTimeout(() => {
    console.log(`FAIL  driver deadline of ${DRIVER_DEADLINE_MS / 1000} s reached`)
    process.exit(1)
  }, DRIVER_DEADLINE_MS)

  registerCodecs()
  kafka = new Kafka({
    clientId: 'petrel-compat-kafkajs',
    brokers: [args.bootstrap],
    logLevel: logLevel.ERROR, // kafkajs logs every join/commit at INFO; keep only errors
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { retries: 5 },
  })

  console.log(`kafkajs ${require('kafkajs/package.json').version}, scenario ${args.scenario}, topic ${args.topic}`)
  let code
  let unsupported = null
  try {
    await scenario(args)
    code = failures === 0 ? 0 : 1
  } catch (e) {
    if (e instanceof Unsupported) {
      unsupported = e.message
      code = 77
    } else {
      if (!/^stopping: /.test(e.message)) {
        const pe = protocolError(e)
        check(false, 'scenario ran to the end', `${e.name}: ${e.message}${pe ? ` [broker error ${pe.type} (${pe.code})]` : ''}`)
      }
      code = 1
    }
  }
  for (const client of clients.reverse()) {
    try {
      await bounded(client.disconnect(), 15000, 'disconnect')
    } catch (e) {
      console.log(`      (disconnect: ${e.message})`)
    }
  }
  if (code === 0) console.log(`PASS  ${args.scenario}`)
  else if (code === 77) console.log(`UNSUPPORTED: ${unsupported}`) // must be the last line
  else if (code === 1) console.log(`FAIL  ${args.scenario}: ${failures} check(s) failed`)
  return code
}

main().then(code => process.exit(code), e => {
  console.log(`FAIL  driver error: ${e.stack || e}`)
  process.exit(1)
})
