import type { TextVariant } from "./campaign.js";

const URL_PATTERN = /https?:\/\/\S+/g;
const HASHTAG_PATTERN = /(^|\s)#[\p{L}\p{N}_]+/gu;

/** Characters as platforms count them: code points, with every URL counted as 23 (t.co length). */
export function platformLength(text: string): number {
  const withoutUrls = text.replace(URL_PATTERN, "");
  const urls = text.match(URL_PATTERN)?.length ?? 0;
  return [...withoutUrls].length + urls * 23;
}

export const hashtagCount = (text: string) => text.match(HASHTAG_PATTERN)?.length ?? 0;

export const LIMITS: Record<TextVariant, { chars: number; hashtags?: number }> = {
  post: { chars: 280 },
  caption: { chars: 2200, hashtags: 30 },
  alt_text: { chars: 1000 },
};

/** Null when the variant fits its platform's limits, else the sentence saying how it does not. */
export function limitProblem(variant: TextVariant, text: string): string | null {
  const limit = LIMITS[variant];
  const length = variant === "post" ? platformLength(text) : [...text].length;
  if (length > limit.chars) return `${variant} is ${length} characters, over its limit of ${limit.chars}`;
  if (text.trim() === "") return `${variant} is empty`;
  const tags = hashtagCount(text);
  if (limit.hashtags !== undefined && tags > limit.hashtags) {
    return `${variant} has ${tags} hashtags, over its limit of ${limit.hashtags}`;
  }
  return null;
}
