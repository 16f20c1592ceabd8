#!/usr/bin/env node
// A keyrotor client in Node.js, from the published proto only (@grpc/grpc-js + @grpc/proto-loader).
//
// Over mutual TLS it creates a key, asks for a data key under it (GenerateDataKey: the plaintext
// data key and the same key wrapped by the cluster), has the cluster decrypt the wrapped copy
// (Decrypt), and exits 0 only if the decrypted key equals the plaintext data key.
//
//   (cd examples/node && npm ci)
//   node examples/node/envelope_roundtrip.js --servers 127.0.0.1:7101,127.0.0.1:7102 \
//       --tls-dir .keyrotor/cluster/tls
//
// Errors print their status code, message and the google.rpc.ErrorInfo reason keyrotor sends.
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const repo = path.resolve(__dirname, '..', '..');

function parseArgs(argv) {
  const args = {
    servers: process.env.KEYROTOR_SERVERS || '127.0.0.1:7101',
    tlsDir: path.join(repo, '.keyrotor', 'cluster', 'tls'),
    principal: 'admin',
    protoRoot: path.join(repo, 'proto', 'src', 'main', 'proto'),
    key: 'example-node-' + crypto.randomBytes(4).toString('hex'),
    timeoutSeconds: 20,
  };
  const names = {
    '--servers': 'servers', '--tls-dir': 'tlsDir', '--principal': 'principal',
    '--proto-root': 'protoRoot', '--key': 'key', '--timeout': 'timeoutSeconds',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (!name || i + 1 >= argv.length) {
      throw new Error('usage: envelope_roundtrip.js [--servers H:P,...] [--tls-dir DIR]'
        + ' [--principal NAME] [--proto-root DIR] [--key NAME] [--timeout SECONDS]');
    }
    args[name] = argv[i + 1];
  }
  return args;
}

// Reads one varint of `buf` at `at`: [value, next offset].
function varint(buf, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
    shift += 7;
  }
}

// The length-delimited fields of a protobuf message: [[field number, bytes], ...].
function lengthDelimited(buf) {
  const fields = [];
  let at = 0;
  while (at < buf.length) {
    let key;
    [key, at] = varint(buf, at);
    const wireType = key & 7;
    if (wireType === 2) {
      let length;
      [length, at] = varint(buf, at);
      fields.push([key >>> 3, buf.subarray(at, at + length)]);
      at += length;
    } else if (wireType === 0) {
      [, at] = varint(buf, at);
    } else if (wireType === 1) {
      at += 8;
    } else if (wireType === 5) {
      at += 4;
    } else {
      break;
    }
  }
  return fields;
}

// The ErrorInfo reason in a status's grpc-status-details-bin (google.rpc.Status.details, an Any
// with type_url 1 and value 2; ErrorInfo.reason is field 1), or ''.
function errorReason(error) {
  const raw = error.metadata && error.metadata.get('grpc-status-details-bin')[0];
  if (!raw) return '';
  for (const [number, any] of lengthDelimited(Buffer.from(raw))) {
    if (number !== 3) continue;
    const parts = new Map(lengthDelimited(any));
    if (String(parts.get(1) || '').endsWith('/google.rpc.ErrorInfo')) {
      const reason = lengthDelimited(parts.get(2) || Buffer.alloc(0)).find(([n]) => n === 1);
      return reason ? reason[1].toString() : '';
    }
  }
  return '';
}

function call(stub, method, request, timeoutSeconds) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + timeoutSeconds * 1000);
    stub[method](request, { deadline }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

// Calls `method` on the first node that answers; UNAVAILABLE (no leader yet) tries the next.
async function callAny(stubs, method, request, timeoutSeconds) {
  let last;
  for (let round = 0; round < 20; round++) {
    for (const stub of stubs) {
      try {
        return await call(stub, method, request, timeoutSeconds);
      } catch (error) {
        if (error.code !== grpc.status.UNAVAILABLE) throw error;
        last = error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw last;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const definition = protoLoader.loadSync('keyrotor/v1/key_service.proto', {
    includeDirs: [args.protoRoot],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
  });
  const api = grpc.loadPackageDefinition(definition).keyrotor.v1;
  const read = (name) => fs.readFileSync(path.join(args.tlsDir, name));
  const credentials = grpc.credentials.createSsl(
    read('ca.pem'), read(args.principal + '-key.pem'), read(args.principal + '.pem'));
  const stubs = args.servers.split(',').filter((s) => s.trim())
    .map((server) => new api.KeyService(server.trim(), credentials));
  try {
    const context = { example: 'node' };
    await callAny(stubs, 'CreateKey', { name: args.key }, args.timeoutSeconds);
    const dataKey = await callAny(stubs, 'GenerateDataKey',
      { key_name: args.key, context }, args.timeoutSeconds);
    const decrypted = await callAny(stubs, 'Decrypt',
      { ciphertext: dataKey.wrapped_data_key, context }, args.timeoutSeconds);
    const match = dataKey.plaintext.length > 0
      && Buffer.compare(Buffer.from(decrypted.plaintext), Buffer.from(dataKey.plaintext)) === 0;
    // The data key itself is key material: only its length is printed.
    console.log(`key=${args.key} version=${dataKey.key_version}`
      + ` data_key_bytes=${dataKey.plaintext.length}`
      + ` wrapped_b64=${Buffer.from(dataKey.wrapped_data_key).toString('base64').slice(0, 24)}...`
      + ` decrypted_matches=${match}`);
    return match ? 0 : 2;
  } catch (error) {
    if (error.code === undefined) throw error;
    console.error(`error: ${grpc.status[error.code]} ${error.details} (${errorReason(error)})`);
    return 1;
  } finally {
    stubs.forEach((stub) => stub.close());
  }
}

main().then((code) => process.exit(code), (error) => {
  console.error('error: ' + error.message);
  process.exit(1);
});
