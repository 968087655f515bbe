export type CardErrorReason = "cannot_fit" | "bad_brand" | "missing_glyph";

/** A card that cannot be made from this input; retrying will not help. */
export class CardError extends Error {
  constructor(
    readonly reason: CardErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "CardError";
  }
}
