// query.mjs: the analyst's baseline of the benchmarks. One DuckDB query
// over the benchmark's JSON Lines computes the postpaid list-price charge
// of every app for the month: usage records only, video segments
// unnested, each segment's seconds in the tier of its pixel area (SD up
// to 640x480, HD up to 1280x720, HD+ above), audio = presence minus the
// video seconds (not their union: an analyst's shortcut), seconds summed
// per app and tier, ceil to minutes, times the list price. No packages,
// no state, no duplicates removed: what a quick query gives.
//
// usage: node bench/duckdb/query.mjs FILE.jsonl [THREADS]
// Prints "apps N seconds S records_per_second R" (R counts the file's
// lines, as the other benchmarks do). Depends on: @duckdb/node-api
// (npm install in this folder).
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, statSync } from 'node:fs';

const file = process.argv[2];
const threads = Number(process.argv[3] || 2);
if (!file) {
  console.error('usage: node query.mjs FILE.jsonl [THREADS]');
  process.exit(2);
}

const sql = `
WITH usage AS (
  SELECT app, seconds, video
  FROM read_json(?, format = 'newline_delimited',
                 columns = {type: 'VARCHAR', app: 'BIGINT', seconds: 'BIGINT',
                            video: 'STRUCT("offset" BIGINT, seconds BIGINT,
                                           width BIGINT, height BIGINT)[]'},
                 maximum_object_size = 1048576)
  WHERE type = 'usage'
),
segs AS (
  SELECT app, s.seconds AS seconds,
         CASE WHEN s.width * s.height <= 307200 THEN 'SD'
              WHEN s.width * s.height <= 921600 THEN 'HD'
              ELSE 'HD+' END AS tier
  FROM (SELECT app, unnest(video) AS s FROM usage)
),
audio AS (
  SELECT app, 'audio' AS tier,
         greatest(seconds - coalesce(list_sum([v.seconds FOR v IN video]), 0),
                  0) AS seconds
  FROM usage
),
per_tier AS (
  SELECT app, tier, sum(seconds) AS seconds
  FROM (SELECT app, tier, seconds FROM segs
        UNION ALL SELECT app, tier, seconds FROM audio)
  GROUP BY app, tier
)
SELECT app, tier, (seconds + 59) // 60 AS minutes,
       CAST((seconds + 59) // 60 AS DECIMAL(18, 0))
         * CASE tier WHEN 'audio' THEN 7 WHEN 'SD' THEN 14
                     WHEN 'HD' THEN 28 ELSE 105 END
         / CAST(1000 AS DECIMAL(18, 8)) AS amount
FROM per_tier
ORDER BY app, tier`;

const t0 = process.hrtime.bigint();
const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await db.connect();
const reader = await con.runAndReadAll(sql, [file]);
const rows = reader.getRows();
const ns = process.hrtime.bigint() - t0;
const apps = new Set(rows.map((r) => String(r[0]))).size;
// Lines in the file, counted after the timing (not part of the query).
let lines = 0;
const buf = readFileSync(file);
for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
const secs = Number(ns) / 1e9;
console.log(`apps ${apps} rows ${rows.length} lines ${lines} seconds ` +
            `${secs.toFixed(3)} records_per_second ` +
            `${Math.round(lines / secs)}`);
void statSync;
