// Runs in its own Node process, not in Jest: @apidevtools/swagger-parser and openapi-typescript load ES
// modules through require(), which Node (>= 20.19) does and Jest's module runtime does not.
//   node openapi-tools.js check < doc.json   → {"errors": string|null, "dereferenced": {...}}
//   node openapi-tools.js types FILE < doc.json  → writes the openapi-typescript types to FILE
const { readFileSync, writeFileSync } = require('node:fs');

async function main() {
  const [command, file] = process.argv.slice(2);
  const doc = JSON.parse(readFileSync(0, 'utf8'));
  if (command === 'check') {
    const SwaggerParser = require('@apidevtools/swagger-parser');
    let errors = null;
    try {
      await SwaggerParser.validate(structuredClone(doc));
    } catch (error) {
      errors = String(error.message);
    }
    // Recursive schemas (a struct's members are properties) stay $refs: the rest is resolved in place.
    const dereferenced = await SwaggerParser.dereference(structuredClone(doc), {
      dereference: { circular: 'ignore' },
    });
    process.stdout.write(JSON.stringify({ errors, dereferenced }));
  } else if (command === 'types') {
    const { default: openapiTS, astToString } = require('openapi-typescript');
    writeFileSync(file, astToString(await openapiTS(doc)));
  } else {
    throw new Error(`unknown command ${command}`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
