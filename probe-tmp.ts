import { readRecords } from "./src/import/read-records.ts";
const show = (l: string, r: any) => console.log(l, JSON.stringify(r).slice(0, 400));
show("dupcol", readRecords(Buffer.from("id,text,text\na,one,two\n"), "x.csv"));
show("nul", readRecords(Buffer.from("id,te\u0000xt\na,b\n"), "x.csv"));
const deep = "[".repeat(100000) + "]".repeat(100000);
let t = Date.now();
try { show("deep", readRecords(Buffer.from(deep), "x.json")); } catch (e) { console.log("deep throws", (e as Error).message); }
console.log(Date.now() - t, "ms");
const many = "[\n" + Array.from({ length: 40000 }, (_, i) => `{"id":"q-${i}","speakerId":"leena","text":"${"x".repeat(100)}"}`).join(",\n") + "\n]";
console.log("json bytes", many.length);
t = Date.now();
const r = readRecords(Buffer.from(many), "x.json");
console.log("many json", Date.now() - t, "ms", r.ok && r.records.at(-1)?.line);
