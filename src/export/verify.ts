import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import yauzl from "yauzl";

export type VerifyResult = { ok: boolean; zip: string; entries: number; problems: string[] };

type Entry = { name: string; sha256: string; data?: Buffer };

/** Reads every entry of the zip, hashing as it goes; keeps only manifest.json's bytes. */
async function readZip(file: string): Promise<Entry[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, strictFileNames: true }, (err, z) =>
      err ? reject(err) : resolve(z),
    ),
  );
  const entries: Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject);
    zip.on("end", resolve);
    zip.on("entry", (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const hash = createHash("sha256");
        const chunks: Buffer[] = [];
        const keep = entry.fileName === "manifest.json";
        stream.on("data", (c: Buffer) => {
          hash.update(c);
          if (keep) chunks.push(c);
        });
        stream.on("error", reject);
        stream.on("end", () => {
          entries.push({
            name: entry.fileName,
            sha256: hash.digest("hex"),
            data: keep ? Buffer.concat(chunks) : undefined,
          });
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return entries;
}

/**
 * Recomputes every checksum against the manifest: each listed file present with its sha256, nothing
 * unlisted in the zip, and (when the sidecar manifest.json sits beside it) the zip's own sha256.
 */
export async function verifyBundle(target: string): Promise<VerifyResult> {
  const isDir = (await stat(target)).isDirectory();
  const zipPath = isDir ? path.join(target, "bundle.zip") : target;
  const problems: string[] = [];
  const entries = await readZip(zipPath);
  const manifestEntry = entries.find((e) => e.name === "manifest.json");
  if (!manifestEntry?.data)
    return {
      ok: false,
      zip: zipPath,
      entries: entries.length,
      problems: ["manifest.json is missing from the zip"],
    };
  const manifest = JSON.parse(manifestEntry.data.toString("utf8")) as {
    outputs: { files: { path: string; sha256: string }[] }[];
  };
  const listed = new Map(manifest.outputs.flatMap((o) => o.files.map((f) => [f.path, f.sha256] as const)));
  const inZip = new Map(entries.map((e) => [e.name, e.sha256]));
  for (const [name, sum] of listed) {
    const actual = inZip.get(name);
    if (actual === undefined) problems.push(`${name}: listed in the manifest, missing from the zip`);
    else if (actual !== sum) problems.push(`${name}: sha256 ${actual} does not match the manifest's ${sum}`);
  }
  for (const name of inZip.keys()) {
    if (name !== "manifest.json" && !listed.has(name))
      problems.push(`${name}: in the zip but not in the manifest`);
  }
  const sidecarPath = path.join(path.dirname(zipPath), "manifest.json");
  const sidecar = await readFile(sidecarPath, "utf8").then(
    (t) => JSON.parse(t) as { zip?: { sha256: string } },
    () => undefined,
  );
  if (sidecar?.zip) {
    const actual = createHash("sha256")
      .update(await readFile(zipPath))
      .digest("hex");
    if (actual !== sidecar.zip.sha256)
      problems.push(`bundle.zip: sha256 ${actual} does not match ${sidecarPath}'s ${sidecar.zip.sha256}`);
  }
  return { ok: problems.length === 0, zip: zipPath, entries: entries.length, problems };
}
