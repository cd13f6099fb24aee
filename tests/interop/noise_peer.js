// SPDX-License-Identifier: MIT
// tests/interop/noise_peer.js - one side of a Noise_XX_25519_ChaChaPoly_BLAKE2b
// session run by the npm package noise-protocol (an implementation
// independent of ours), for tests/interop/noise_npm.c.
//
//   node noise_peer.js initiator|responder PROLOGUE
//
// Messages on stdin and stdout, each after a 2-byte big-endian length, as
// IPCNet's TCP links frame them.  The handshake's payloads are empty.  Then
// its first transport message is JSON: {"s": its static public key, "rs":
// the peer's as it learned it, "h": the handshake hash} (hex); then it
// answers each transport message M with "echo:" + M, until M is "bye",
// which it answers "bye" and exits 0.  A message that does not
// authenticate: exit 3, with the reason on stderr.
'use strict'
const noise = require('noise-protocol')
const cipher = require('noise-protocol/cipher')()
const cipherState = require('noise-protocol/cipher-state')({ cipher })

const role = process.argv[2]
if (role !== 'initiator' && role !== 'responder') {
  process.stderr.write('usage: node noise_peer.js initiator|responder PROLOGUE\n')
  process.exit(2)
}
const prologue = Buffer.from(process.argv[3] || '', 'utf8')

let inbuf = Buffer.alloc(0)
const waiting = []
process.stdin.on('data', (d) => {
  inbuf = Buffer.concat([inbuf, d])
  pump()
})
process.stdin.on('end', () => {
  if (waiting.length) fail('stdin closed', 4)
})

function pump () {
  while (waiting.length && inbuf.length >= 2) {
    const n = inbuf.readUInt16BE(0)
    if (inbuf.length < 2 + n) return
    const msg = inbuf.subarray(2, 2 + n)
    inbuf = inbuf.subarray(2 + n)
    waiting.shift()(Buffer.from(msg))
  }
}

function recv () {
  return new Promise((resolve) => { waiting.push(resolve); pump() })
}

function send (msg) {
  const len = Buffer.alloc(2)
  len.writeUInt16BE(msg.length)
  process.stdout.write(Buffer.concat([len, msg]))
}

function fail (why, code) {
  process.stderr.write('noise_peer (' + role + '): ' + why + '\n')
  process.exit(code)
}

async function main () {
  const s = noise.keygen()
  const hs = noise.initialize('XX', role === 'initiator', prologue, s)
  const empty = Buffer.alloc(0)
  let split
  for (let i = 0; i < 3; i++) {
    const ours = (i % 2 === 0) === (role === 'initiator')
    if (ours) {
      const out = Buffer.alloc(256)
      split = noise.writeMessage(hs, empty, out)
      send(out.subarray(0, noise.writeMessage.bytes))
    } else {
      const msg = await recv()
      try {
        split = noise.readMessage(hs, msg, Buffer.alloc(256))
      } catch (e) {
        fail('handshake message ' + (i + 1) + ' refused: ' + e.message, 3)
      }
    }
  }
  if (!split) fail('no split after three messages', 1)
  const view = {
    s: Buffer.from(s.publicKey).toString('hex'),
    rs: Buffer.from(hs.rs).toString('hex'),
    h: Buffer.from(hs.symmetricState.subarray(64, 128)).toString('hex')
  }
  noise.destroy(hs)
  const encrypt = (pt) => {
    const out = Buffer.alloc(pt.length + 16)
    cipherState.encryptWithAd(split.tx, out, null, pt)
    return out
  }
  send(encrypt(Buffer.from(JSON.stringify(view))))
  for (;;) {
    const ct = await recv()
    const pt = Buffer.alloc(Math.max(ct.length - 16, 0))
    try {
      cipherState.decryptWithAd(split.rx, pt, null, ct)
    } catch (e) {
      fail('transport message refused: ' + e.message, 3)
    }
    if (pt.toString('latin1') === 'bye') {
      send(encrypt(Buffer.from('bye')))
      process.stdout.end(() => process.exit(0))
      return
    }
    const reply = Buffer.concat([Buffer.from('echo:'), pt])
    send(encrypt(reply.subarray(0, Math.min(reply.length, 65535 - 16))))
  }
}

main().catch((e) => fail(e.stack || String(e), 1))
