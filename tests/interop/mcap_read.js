// SPDX-License-Identifier: MIT
// tests/interop/mcap_read.js - read an MCAP file with the npm package
// @mcap/core (McapStreamReader, CRCs checked; zstd chunks through Foxglove's
// @foxglove/wasm-zstd) and
// print what rec_peer's `digest` prints with our reader (src/mcap/), a line
// per file named:
//   messages N sha256 HEX complete|cut-off
// where HEX hashes, per message in file order: its channel's topic, a 0
// byte, sequence (u32 LE), log and publish time (u64 LE), data length (u64
// LE) and data.  A file cut off (no footer) is read up to its last whole
// record, as the package does.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { McapStreamReader } = require('@mcap/core');
const zstd = require('@foxglove/wasm-zstd');

function digest(file) {
  const buf = fs.readFileSync(file);
  const reader = new McapStreamReader({
    validateCrcs: true,
    decompressHandlers: {
      zstd: (data, size) => zstd.decompress(data, Number(size)),
    },
  });
  reader.append(buf);
  const topics = new Map();
  const h = crypto.createHash('sha256');
  let n = 0;
  for (;;) {
    const rec = reader.nextRecord();
    if (!rec) break;
    if (rec.type === 'Channel') {
      topics.set(rec.id, rec.topic);
    } else if (rec.type === 'Message') {
      const head = Buffer.alloc(28);
      head.writeUInt32LE(rec.sequence, 0);
      head.writeBigUInt64LE(rec.logTime, 4);
      head.writeBigUInt64LE(rec.publishTime, 12);
      head.writeBigUInt64LE(BigInt(rec.data.length), 20);
      h.update(Buffer.from(topics.get(rec.channelId), 'utf8'));
      h.update(Buffer.from([0]));
      h.update(head);
      h.update(rec.data);
      n++;
    }
  }
  return `messages ${n} sha256 ${h.digest('hex')} ${reader.done() ? 'complete' : 'cut-off'}`;
}

zstd.isLoaded.then(() => {
  let rc = 0;
  for (const file of process.argv.slice(2)) {
    try {
      console.log(digest(file));
    } catch (e) {
      console.log(`error ${e.message}`);
      rc = 1;
    }
  }
  process.exit(rc);
});
