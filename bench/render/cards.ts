/** Inputs for bench/render.bench.ts: a campaign's worth of distinct cards, and the same card as satori markup. */
import type { Format } from "../../src/domain/campaign.js";
import type { CardInput } from "../../src/render/card/card.render.js";
import { layoutFor } from "../../src/render/card/layout.js";

export type Script = "latin" | "arabic";
export const SCRIPTS: Script[] = ["latin", "arabic"];
const SENTENCES: Record<Script, string[]> = {
  latin: [
    "They promised us justice and a state for Muslims.",
    "What I found was cruelty, and commanders who lived in villas while we went hungry.",
    "In 2015 I watched a friend executed for asking to go home.",
    "Children were taught to behead dolls.",
    "That was the day I understood it was all a lie.",
    "We walked for three nights to reach the border.",
    "Nobody tells you that the men who recruit you never come themselves.",
  ],
  arabic: [
    "وعدونا بالعدل وبدولة للمسلمين.",
    "لكننا وجدنا القسوة، والقادة يعيشون في القصور بينما نجوع.",
    "في عام 2015 رأيت صديقي يُعدم لأنه طلب العودة إلى بيته.",
    "الدولة الإسلامية لا تحمي المسلمين. إنها تقتلهم.",
    "في ذلك اليوم فهمت أن كل شيء كان كذبة.",
    "مشينا ثلاث ليالٍ حتى وصلنا إلى الحدود.",
    "#WhyTheyLeft لأن الذين جنّدونا لم يأتوا أبداً بأنفسهم.",
  ],
};
const ATTRIBUTIONS: Record<Script, string[]> = {
  latin: ["A British former fighter", "A former fighter from Tunisia", "A former recruiter"],
  arabic: ["مقاتل سابق", "مقاتل سابق من تونس", "مجنِّد سابق"],
};
const HASHTAGS = ["#WhyTheyLeft", "#DefectorVoices"];
export const BRAND = { background: { from: "#13294b", to: "#0a1730" }, text: "#ffffff", accent: "#f2c14e" };
export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><circle cx="100" cy="100" r="96" fill="#f2c14e"/><path d="M60 70h80v16H60zM60 100h80v16H60zM60 130h50v16H60z" fill="#13294b"/></svg>`;

/**
 * One row group of the render bench: a name and the card it draws for index `i` (its own quote per
 * card). The bench loops over a list of these, so a per-locale case is one more entry.
 */
export type RenderCase = { name: string; card: (format: Format, i: number, logoPng: Buffer) => CardInput };
export const SCRIPT_CASES: RenderCase[] = SCRIPTS.map((script) => ({
  name: script,
  card: (format, i, logoPng) => cardInput(format, script, i, logoPng),
}));

/** Every card gets its own quote (1 to 7 sentences, rotated), as a campaign's cards do. */
function quoteFor(script: Script, i: number): string {
  const pool = SENTENCES[script];
  const count = 1 + ((i * 5) % 7);
  return `${Array.from({ length: count }, (_, k) => pool[(i + k * 3) % pool.length]).join(" ")} (${i})`;
}

export function cardInput(format: Format, script: Script, i: number, logoPng: Buffer): CardInput {
  return {
    format,
    locale: script === "arabic" ? "ar" : "en",
    direction: script === "arabic" ? "rtl" : "ltr",
    quote: quoteFor(script, i),
    attribution: ATTRIBUTIONS[script][i % 3]!,
    hashtags: HASHTAGS,
    brand: { ...BRAND, logoPng },
    encoding: "png",
  };
}

export type El = { type: string; props: Record<string, unknown> };
const el = (type: string, style: Record<string, unknown>, children?: unknown, extra = {}): El => ({
  type,
  props: { style, children, ...extra },
});

/** The same card as satori markup (JSX-free element objects): same sizes, fonts, colours and logo. */
export function satoriCard(input: CardInput, fontSize: number, logo: string): El {
  const L = layoutFor(input.format);
  const rtl = input.direction === "rtl";
  const family = rtl ? "Noto Naskh Arabic" : "Noto Sans";
  const edge = rtl ? "flex-end" : "flex-start";
  const bg = BRAND.background;
  const group = [
    L.mark
      ? el(
          "div",
          { fontSize: L.mark.size, lineHeight: 1, height: L.mark.size * 0.4, color: BRAND.accent },
          "\u201c",
        )
      : null,
    el(
      "div",
      { width: L.text.width, fontSize, lineHeight: 1.36, textAlign: rtl ? "right" : "left" },
      input.quote,
    ),
    el("div", {
      width: L.rule.width,
      height: L.rule.thickness,
      backgroundColor: BRAND.accent,
      marginTop: L.rule.gap,
    }),
    el(
      "div",
      { maxWidth: L.text.width, fontSize: L.attribution.size, opacity: 0.82, marginTop: L.attribution.gap },
      `\u2014 ${input.attribution}`,
    ),
  ].filter(Boolean);
  const footer = el(
    "div",
    {
      display: "flex",
      flexDirection: rtl ? "row-reverse" : "row",
      justifyContent: "space-between",
      alignItems: "center",
      width: L.safe.width,
      height: L.footer.height,
      flexShrink: 0,
    },
    [
      el(
        "div",
        {
          maxWidth: L.footer.textWidth,
          fontSize: L.footer.hashtagSize,
          fontWeight: 700,
          color: BRAND.accent,
        },
        input.hashtags.join("   "),
      ),
      el("img", {}, undefined, { src: logo, width: L.logo.width, height: L.logo.height }),
    ],
  );
  const content = el(
    "div",
    {
      position: "absolute",
      left: L.safe.left,
      top: L.safe.top,
      width: L.safe.width,
      height: L.safe.height,
      display: "flex",
      flexDirection: "column",
    },
    [
      el(
        "div",
        {
          display: "flex",
          flexDirection: "column",
          flexGrow: 1,
          flexShrink: 1,
          overflow: "hidden",
          justifyContent: "center",
          alignItems: edge,
        },
        group,
      ),
      footer,
    ],
  );
  return el(
    "div",
    {
      width: L.width,
      height: L.height,
      display: "flex",
      backgroundImage: `linear-gradient(to bottom, ${bg.from}, ${bg.to})`,
      color: BRAND.text,
      fontFamily: family,
    },
    [content],
  );
}
