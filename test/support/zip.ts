import yauzl from "yauzl";

/** Every entry of a zip, in stored order, with its bytes: what a user unzipping the bundle gets. */
export async function unzip(file: string): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.open(file, { lazyEntries: true }, (e, z) => (e ? rej(e) : res(z))),
  );
  const out = new Map<string, Buffer>();
  await new Promise<void>((res, rej) => {
    zip.on("end", res).on("error", rej);
    zip.on("entry", (entry: yauzl.Entry) =>
      zip.openReadStream(entry, (err, s) => {
        if (err) return rej(err);
        const chunks: Buffer[] = [];
        s.on("data", (c: Buffer) => chunks.push(c)).on("end", () => {
          out.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      }),
    );
    zip.readEntry();
  });
  return out;
}
