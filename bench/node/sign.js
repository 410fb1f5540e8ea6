// bench/node/sign.js - ns per SigV4 signature with the npm `aws4` and `@smithy/signature-v4`
// packages, on the request bench/sign.lua signs (GuardDuty DeclineInvitations, us-east-1).
//
//   node bench/node/sign.js [rounds] [iterations]
//
// Before timing, each signer signs the request at 2015-08-30T12:36:00Z and its signature must be
// the one botocore and invite give (dd6d5c74...), so the loop times a correct signature.
// Prints one line per variant:
//   result <name> min=<ns> median=<ns> max=<ns> rounds=<n> iterations=<n>
// aws4 is timed as a caller uses it: a fresh request object per call, the date taken by aws4
// (aws4 also signs the Content-Length header it adds). @smithy/signature-v4 (the AWS SDK v3
// signer, with @smithy/hash-node's SHA-256) is async: each signature is awaited, as the SDK does;
// applyChecksum is false so it signs the same headers as botocore (no x-amz-content-sha256).
"use strict";

const aws4 = require("aws4");
const { SignatureV4 } = require("@smithy/signature-v4");
const { Hash } = require("@smithy/hash-node");

const ROUNDS = Number(process.argv[2]) || 9;
const ITERS = Number(process.argv[3]) || 20000;
const EXPECTED = "dd6d5c74f53db1465edeb9b834d886e7e73d7e61bbb8b760b35b6e446f9b3388";
const HOST = "guardduty.us-east-1.amazonaws.com";
const BODY = '{"accountIds":["111122223333"]}';
const AKID = "AKIDEXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN = "FwoGZXIvYXdzEBYaDExampleSessionTokenValue0123456789abcdefghijklmnopqrstuvwxyz+/" +
  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz+/ABCDEFGHIJKLMNOP==";
const FIXED = new Date(1440938160 * 1000);

function signatureOf(auth) {
  const m = /Signature=([0-9a-f]{64})/.exec(auth || "");
  return m ? m[1] : null;
}

function stats(ns) {
  ns.sort((a, b) => a - b);
  return [ns[0], ns[Math.floor(ns.length / 2)], ns[ns.length - 1]];
}

function report(name, ns) {
  const [mn, md, mx] = stats(ns);
  console.log(`result ${name} min=${mn.toFixed(0)} median=${md.toFixed(0)} max=${mx.toFixed(0)} ` +
    `rounds=${ROUNDS} iterations=${ITERS}`);
}

function aws4Request() {
  return { host: HOST, path: "/invitation/decline", method: "POST", service: "guardduty",
           region: "us-east-1", body: BODY, headers: { "Content-Type": "application/json" } };
}

function checkAws4() {
  const r = aws4Request();
  r.headers.Host = HOST;
  r.headers["X-Amz-Date"] = "20150830T123600Z";
  r.doNotModifyHeaders = true; // exactly Host, Content-Type, X-Amz-Date, as botocore signs
  const signer = new aws4.RequestSigner(r, { accessKeyId: AKID, secretAccessKey: SECRET });
  signer.datetime = "20150830T123600Z"; // with doNotModifyHeaders aws4 would take the clock's date
  const sig = signatureOf(signer.sign().headers.Authorization);
  if (sig !== EXPECTED) throw new Error(`aws4 signature ${sig} != ${EXPECTED}`);
}

function timeAws4(creds) {
  for (let i = 0; i < 2000; i++) aws4.sign(aws4Request(), creds);
  const ns = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ITERS; i++) aws4.sign(aws4Request(), creds);
    ns.push(Number(process.hrtime.bigint() - t0) / ITERS);
  }
  return ns;
}

function smithyRequest() {
  return { method: "POST", protocol: "https:", hostname: HOST, path: "/invitation/decline", query: {},
           headers: { host: HOST, "content-type": "application/json" }, body: BODY };
}

function smithySigner(creds) {
  return new SignatureV4({ credentials: creds, region: "us-east-1", service: "guardduty",
                           sha256: Hash.bind(null, "sha256"), applyChecksum: false });
}

async function checkSmithy() {
  const out = await smithySigner({ accessKeyId: AKID, secretAccessKey: SECRET })
    .sign(smithyRequest(), { signingDate: FIXED });
  const sig = signatureOf(out.headers.authorization);
  if (sig !== EXPECTED) throw new Error(`@smithy/signature-v4 signature ${sig} != ${EXPECTED}`);
}

async function timeSmithy(creds) {
  const signer = smithySigner(creds);
  for (let i = 0; i < 2000; i++) await signer.sign(smithyRequest());
  const ns = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ITERS; i++) await signer.sign(smithyRequest());
    ns.push(Number(process.hrtime.bigint() - t0) / ITERS);
  }
  return ns;
}

async function main() {
  checkAws4();
  await checkSmithy();
  const plain = { accessKeyId: AKID, secretAccessKey: SECRET };
  const token = { accessKeyId: AKID, secretAccessKey: SECRET, sessionToken: TOKEN };
  report("node-aws4-no-token", timeAws4(plain));
  report("node-aws4-token", timeAws4(token));
  report("node-smithy-no-token", await timeSmithy(plain));
  report("node-smithy-token", await timeSmithy(token));
}

main().catch((e) => {
  console.error(`bench/node/sign.js: ${e.message}`);
  process.exit(1);
});
