// Runs every source query of sources/clm/ on a serving file with the DuckDB Node client that Evidence's
// DuckDB plugin uses (@duckdb/node-api, pinned by package-lock.json), opened read-only as the plugin opens it.
//   node check_sources.mjs SERVING_FILE [REPORTING_CURRENCY]
// Prints one JSON object: the client's package version, the DuckDB version it reports, and for each source
// its columns and rows (what `evidence sources` would write to parquet).
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const here = path.dirname(fileURLToPath(import.meta.url));
const [serving, currency = 'USD'] = process.argv.slice(2);
if (!serving) {
	console.error('usage: node check_sources.mjs SERVING_FILE [REPORTING_CURRENCY]');
	process.exit(2);
}
const require = createRequire(import.meta.url);
const client = require('@duckdb/node-api/package.json').version;

const db = await DuckDBInstance.create(serving, { access_mode: 'READ_ONLY' });
const con = await db.connect();
const version = (await con.runAndReadAll('select version()')).getRows()[0][0];
const folder = path.join(here, 'sources', 'clm');
const sources = {};
for (const file of (await readdir(folder)).filter((name) => name.endsWith('.sql')).sort()) {
	const sql = (await readFile(path.join(folder, file), 'utf8')).replaceAll('${reporting_currency}', currency);
	const reader = await con.runAndReadAll(sql);
	sources[file.slice(0, -4)] = { columns: reader.columnNames(), rows: reader.getRowsJson() };
}
console.log(JSON.stringify({ client, version, sources }));
