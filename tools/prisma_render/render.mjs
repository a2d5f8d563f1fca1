// Render a Prisma schema to the SQL that `prisma migrate diff --from-empty --script` prints,
// with Prisma's own schema engine. The wasm build is used because the native engine is a
// binary download from outside the package registries. The engine asks a live PostgreSQL for
// its version and features, so DATABASE_URL must name an (empty is fine) database; nothing is
// written to it.
//   node render.mjs path/to/schema.prisma [--drop-model Name ...] > rendered.sql
// Prisma 5 schemas name the connection URL in the datasource block; engine 7 refuses that
// line, and the rendering does not depend on it, so it is dropped before rendering.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import * as engineGlue from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

const [schemaPath, ...rest] = process.argv.slice(2);
const dropModels = rest.filter((_, i) => rest[i - 1] === '--drop-model');
if (!schemaPath || !process.env.DATABASE_URL) {
  console.error('usage: DATABASE_URL=postgresql://... node render.mjs schema.prisma');
  process.exit(2);
}
// The package's entry point imports the .wasm as an ES module, which Node 20 cannot; load it
// by hand and hand its exports to the generated glue, as that entry point would.
const require = createRequire(import.meta.url);
const wasmPath = require.resolve('@prisma/schema-engine-wasm').replace(/schema_engine\.js$/, 'schema_engine_bg.wasm');
const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmPath), { './schema_engine_bg.js': engineGlue });
engineGlue.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start();

let datamodel = fs.readFileSync(schemaPath, 'utf8').replace(/^\s*url\s*=.*$/m, '');
for (const name of dropModels) {
  const model = new RegExp(`^model ${name} \\{[^}]*\\}\\n`, 'm');
  if (!model.test(datamodel)) {
    console.error(`--drop-model ${name}: no such model in ${schemaPath}`);
    process.exit(2);
  }
  datamodel = datamodel.replace(model, '');
}
const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: process.env.DATABASE_URL }));
const engine = await engineGlue.SchemaEngine.new({ datamodels: [['schema.prisma', datamodel]] }, () => {}, adapter);
const result = await engine.diff({
  from: { tag: 'empty' },
  to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: datamodel }] },
  script: true,
  exitCode: null,
  filters: { externalTables: [], externalEnums: [] },
});
process.stdout.write(result.stdout);
process.exit(0);
