// DuckDB baseline for bench/process.sh: the same tables from the same lake, in SQL.
// usage: node baseline_duckdb.mjs LAKE_GLOB   (prints rows=N seconds=S)
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
const glob = process.argv[2];
const t0 = Date.now();
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run(`CREATE TABLE parsed AS
  SELECT split_part(topic, '/', 3) AS m, split_part(topic, '/', 5) AS sensor,
         epoch_ms(CAST(payload->>'timestamp_utc' AS TIMESTAMPTZ)) AS ts,
         CAST(coalesce(payload->>'vibration_rms', payload->>'temperature_celsius') AS DOUBLE) AS value,
         payload->>'codigo_evento' AS code, received_at AS received, filename AS file, 0 AS n
  FROM read_json('${glob}', format = 'newline_delimited', filename = true,
                 columns = {received_at: 'VARCHAR', topic: 'VARCHAR', payload: 'JSON'})`);
const sql = readFileSync(new URL('./features.sql', import.meta.url), 'utf8');
for (const stmt of sql.replace(/--.*$/gm, '').split(';').map(s => s.trim()).filter(Boolean)) await c.run(stmt);
const r = await c.runAndReadAll('SELECT count(*) FROM features');
console.log(`rows=${r.getRows()[0][0]} seconds=${(Date.now() - t0) / 1000}`);
