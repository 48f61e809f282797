/*
 * The engine's bidi stage: FriBidi for classes, bracket pairs, levels and per-line
 * reordering, and nothing else (shaping and mirroring belong to HarfBuzz).
 */
#include "kiosk/text/text-priv.h"

void text_bidi_classify(const uint32_t *cps, int len, FriBidiCharType *types,
			FriBidiBracketType *btypes)
{
	fribidi_get_bidi_types(cps, len, types);
	/* Without bracket types rule N0 is skipped: "(AED 100)" inside Arabic goes wrong. */
	fribidi_get_bracket_types(cps, len, types, btypes);
}

int text_bidi_levels(const FriBidiCharType *types, const FriBidiBracketType *btypes, int len,
		     FriBidiParType *par_dir, FriBidiLevel *levels)
{
	if (len <= 0)
		return 0;
	/* FriBidi 1.0.8 returns max level + 1, 0 only when its own allocation fails. */
	FriBidiLevel max = fribidi_get_par_embedding_levels_ex(types, btypes, len, par_dir, levels);
	return max ? 0 : KIO_ERR_NOMEM;
}

int text_bidi_reorder_line(const FriBidiCharType *types, int off, int len, FriBidiParType par_dir,
			   FriBidiLevel *levels, FriBidiStrIndex *map)
{
	if (len <= 0)
		return 0;
	for (int i = off; i < off + len; i++)
		map[i] = i;
	/*
	 * Flags 0: no FRIBIDI_FLAG_REORDER_NSM, because marks travel with their base inside
	 * HarfBuzz runs (rule L3 is the shaper's business). It takes the paragraph arrays
	 * from off and rewrites levels of trailing whitespace (L1) for this line only.
	 */
	FriBidiLevel max = fribidi_reorder_line(0, types, len, off, par_dir, levels, NULL, map);
	return max ? 0 : KIO_ERR_NOMEM;
}
