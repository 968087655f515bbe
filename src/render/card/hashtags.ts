import { hasArabic } from "./arabic-forms.js";
import type { ComposeInput } from "./compose.js";
import { fitText, NoFit } from "./fit.js";
import { face, scriptOf } from "./fonts.js";
import { ARABIC_SCALE } from "./layout.js";
import { hashtagMarkup, withLanguage } from "./pango.js";
import { renderText, type TextMask } from "./text-layer.js";

const hashtagCache = new Map<string, Promise<TextMask | undefined>>();

/**
 * Hashtags at the footer size, smaller if need be; when even the smallest size cannot hold them
 * all (a campaign may have up to 30), the last ones are left off the card: the text variants still
 * carry every hashtag. A campaign's cards share hashtags, so the result is cached.
 */
export function fitHashtags(c: ComposeInput, width: number, height: number): Promise<TextMask | undefined> {
  const tags = c.hashtags.map((t) => t.trim()).filter(Boolean);
  const key = JSON.stringify([
    tags,
    width,
    height,
    c.direction,
    c.locale,
    c.layout.footer.hashtagSize,
    c.palette.hashtags,
  ]);
  let found = hashtagCache.get(key);
  if (!found) {
    found = searchHashtags(tags, c, width, height);
    found.catch(() => hashtagCache.delete(key));
    hashtagCache.set(key, found);
    if (hashtagCache.size > 32) hashtagCache.delete(hashtagCache.keys().next().value!);
  }
  return found;
}

async function searchHashtags(all: string[], c: ComposeInput, width: number, height: number) {
  const bold = face(scriptOf(c.direction), "bold");
  for (let count = all.length; count > 0; count--) {
    const tags = all.slice(0, count);
    const markup = withLanguage(hashtagMarkup(tags, c.direction), c.locale);
    const maxSize = Math.round(c.layout.footer.hashtagSize * (hasArabic(tags.join("")) ? ARABIC_SCALE : 1));
    const colour = c.palette.hashtags;
    const usual = await renderText({ markup, face: bold, size: maxSize, width, colour });
    if (usual.height <= height && usual.width <= width) return usual;
    const box = { width, height };
    const minSize = Math.round(maxSize * 0.7);
    const fitted = await fitText({
      text: tags.join("   "),
      markup,
      face: bold,
      box,
      colour,
      minSize,
      maxSize: maxSize - 1,
    }).catch((error) => {
      if (error instanceof NoFit) return undefined;
      throw error;
    });
    if (fitted) return fitted.mask;
  }
  return undefined;
}
