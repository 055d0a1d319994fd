// Launches the PACT reference host (wbcsd/pact-demo-api-ts, built with `tsc` into DIR/dist) with BENCH_FOOTPRINTS
// footprints: copies of its own first v3 example with fresh ids, pushed into its exported in-memory array before the
// app starts. Nothing of the reference host's code is changed. Usage: node pact_reference_seed.js DIR
const path = require("path");
const crypto = require("crypto");
const dir = process.argv[2];
const fps = require(path.join(dir, "dist/utils/footprints.js"));
const n = parseInt(process.env.BENCH_FOOTPRINTS || "0", 10);
if (n > 0) {
  const template = fps.footprintsV3[0];
  const copies = [];
  for (let i = 0; i < n; i++) copies.push({ ...JSON.parse(JSON.stringify(template)), id: crypto.randomUUID() });
  fps.footprintsV3.length = 0;
  fps.footprintsV3.push(...copies);
}
require(path.join(dir, "dist/app.js"));
