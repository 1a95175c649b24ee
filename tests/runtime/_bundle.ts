// Test helpers shared by the runtime matrix and the edge example's workerd test: bundle a module
// with esbuild (from npm) into one ESM file in a temporary directory, and run a command
// (tests/_run.ts, which needs no esbuild).
import * as esbuild from "esbuild";

/** Bundles `entry` (a path, or source text resolved from `resolveDir`) into `outfile`. */
export async function bundle(
  entry: string | { contents: string; resolveDir: string },
  outfile: string,
): Promise<void> {
  try {
    await esbuild.build({
      ...(typeof entry === "string"
        ? { entryPoints: [entry] }
        : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, loader: "ts" } }),
      outfile,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      mainFields: ["module", "main"],
      logLevel: "error",
    });
  } finally {
    await esbuild.stop();
  }
}

/** A temporary directory removed by `using`/`await using`. */
export async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "fluxpool-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

export { run } from "../_run.ts";
