/** What one drill did, what it counted, and whether each promise held: printed as it goes, judged at the end. */
export class Report {
  readonly steps: string[] = [];
  readonly counts: [string, string | number][] = [];
  readonly checks: { ok: boolean; what: string; detail?: string }[] = [];
  readonly notes: string[] = [];
  private readonly started = Date.now();
  error?: Error;

  constructor(
    readonly name: string,
    readonly promise: string,
  ) {
    print(`\n=== ${name}`);
    print(`    promise: ${promise}`);
  }

  step(text: string) {
    this.steps.push(text);
    print(`  - [${this.elapsed()}] ${text}`);
  }

  count(label: string, value: string | number) {
    this.counts.push([label, value]);
  }

  note(text: string) {
    this.notes.push(text);
  }

  /** One promise checked: FAIL lines carry what was seen instead. */
  check(ok: boolean, what: string, detail?: string) {
    this.checks.push({ ok, what, detail });
    return ok;
  }

  fail(err: unknown) {
    this.error = err instanceof Error ? err : new Error(String(err));
  }

  get passed() {
    return !this.error && this.checks.length > 0 && this.checks.every((c) => c.ok);
  }

  elapsed() {
    return `${((Date.now() - this.started) / 1000).toFixed(1)}s`;
  }

  /** The summary block: counts, checks, notes, verdict. */
  finish(): boolean {
    if (this.counts.length) {
      print("  counts:");
      const width = Math.max(...this.counts.map(([k]) => k.length));
      for (const [k, v] of this.counts) print(`    ${k.padEnd(width)}  ${v}`);
    }
    if (this.checks.length) print("  checks:");
    for (const c of this.checks)
      print(`    ${c.ok ? "ok  " : "FAIL"} ${c.what}${c.detail ? `: ${c.detail}` : ""}`);
    if (this.error) print(`  error: ${this.error.message}`);
    for (const n of this.notes) for (const line of n.split("\n")) print(`  note: ${line}`);
    print(`  ${this.passed ? "PASS" : "FAIL"}  ${this.name}  (${this.elapsed()})`);
    return this.passed;
  }
}

export function print(line: string) {
  process.stdout.write(`${line}\n`);
}
