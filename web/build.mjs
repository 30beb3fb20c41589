// Builds the web app into ../public: API types from ../openapi.yaml (openapi-typescript), a type
// check (tsc), then esbuild bundles with code splitting so Firebase Auth loads only on sign-in.
// Offline: everything comes from node_modules (npm ci from package-lock.json).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "public");
const bin = (name) => join(here, "node_modules", ".bin", name);
const run = (cmd, args) => {
  try {
    execFileSync(cmd, args, { cwd: here, stdio: "inherit" });
  } catch {
    console.error(`web build: ${cmd.split("/").pop()} failed (see above)`);
    process.exit(1);
  }
};

run(bin("openapi-typescript"), ["../openapi.yaml", "-o", "src/api/schema.d.ts", "--default-non-nullable=false", "--silent"]);
if (!process.argv.includes("--no-typecheck")) run(bin("tsc"), ["--noEmit", "-p", "."]);

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/main.tsx"],
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2022"],
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  metafile: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
writeFileSync(join(here, "meta.json"), JSON.stringify(result.metafile));

const outputs = Object.entries(result.metafile.outputs);
const asset = (suffix) => {
  const found = outputs.find(([file, o]) => o.entryPoint === "src/main.tsx" && file.endsWith(suffix));
  return found ? "/assets/" + found[0].split("/").pop() : null;
};
const js = asset(".js");
const css = outputs.find(([file]) => file.endsWith(".css"));
const cssHref = css ? "/assets/" + css[0].split("/").pop() : null;
const favicon = readFileSync(join(here, "src", "favicon.svg"));
const iconName = `favicon-${createHash("sha256").update(favicon).digest("hex").slice(0, 8)}.svg`;
writeFileSync(join(out, "assets", iconName), favicon);
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Publisher for TikTok</title>
<link rel="icon" href="/assets/${iconName}" type="image/svg+xml">
${cssHref ? `<link rel="stylesheet" href="${cssHref}">\n` : ""}<script type="module" src="${js}"></script>
</head>
<body>
<div id="app"><noscript>This app needs JavaScript.</noscript></div>
</body>
</html>
`;
writeFileSync(join(out, "index.html"), html);
console.log(`web: built ${readdirSync(join(out, "assets")).length} assets into public/`);
